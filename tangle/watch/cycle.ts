// One cycle of `npm run watch`, for the chapters whose save started it: tangle the whole book (nothing is written
// when it has problems), then rebuild what changed and boot the smokes those chapters define (`npm run smoke -- …`,
// whose build steps are stamped by their inputs, so an unchanged step is not run). Each step is reported as it
// begins, and the cycle's outcome comes back as a WatchStatus.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tangle } from '../build/book.js';
import type { Log } from '../build/step.js';
import { BookError } from '../diag/diagnostics.js';
import { failures } from '../smoke/report.js';
import { type SmokeResult, validateSmokeResult } from '../smoke/result.js';
import type { Book } from '../parse/model.js';
import type { WatchProblem, WatchSmoke, WatchStatus } from './status.js';

/** Runs one of the tangler's commands (`smoke` or `build`) in the book and gives back its exit code and output. */
export type RunTool = (tool: 'smoke' | 'build', args: string[]) => Promise<{ code: number; lines: string[] }>;

export interface CycleContext {
  root: string;
  log: Log;
  runTool: RunTool;
  /** called at each step, so the terminal and the banner show a cycle in progress */
  report(status: WatchStatus): Promise<void>;
}

const NOT_BOOTED = 'not booted: the run stopped before it (see the problems above)';

/** A compiler's or the smoke runner's line that names a chapter place, as the remapped tools print it. */
const CHAPTER_PLACE = /(chapters\/[\w./-]+\.md:\d+(?::\d+)?)(?::\s*|\s+)(.*)$/;

/** What a failed command said: its lines at chapter places, or else its last line, so a failure never shows nothing. */
function toolProblems(tool: string, lines: readonly string[]): WatchProblem[] {
  const placed = problemsIn(lines);
  const last = [...lines].reverse().find((l) => l.trim() !== '');
  return placed.length > 0 ? placed : [{ where: `npm run ${tool}`, message: last?.trim() ?? 'failed without output' }];
}

/** rustc's headline (`error[E0308]: mismatched types`), which its `  --> place` line below it belongs to. */
const HEADLINE = /^(error|warning)(\[\w+\])?:/;

export function problemsIn(lines: readonly string[]): WatchProblem[] {
  const seen = new Set<string>();
  const out: WatchProblem[] = [];
  let headline = '';
  for (const line of lines) {
    if (HEADLINE.test(line)) headline = line.trim();
    const m = CHAPTER_PLACE.exec(line);
    if (!m || seen.has(line)) continue;
    seen.add(line);
    const rest = m[2]!.trim();
    // a `-->` line says only where: the message is the headline above it (the generated place stays in brackets)
    const message = line.trimStart().startsWith('-->') ? [headline, rest].filter(Boolean).join(' ') : rest;
    out.push({ where: m[1]!, message });
  }
  return out;
}

export async function runCycle(ctx: CycleContext, generation: number, changed: string[]): Promise<WatchStatus> {
  const startedAt = new Date().toISOString();
  const base = { generation, changed, startedAt, problems: [], smokes: [] };
  await ctx.report({
    ...base,
    state: 'running',
    step: 'tangle',
    summary: changed.length ? `tangling after a change to ${changed.join(', ')}` : 'tangling the book',
  });
  let book: Book;
  try {
    book = (await tangle(ctx.root, ctx.log)).book;
  } catch (e) {
    const problems =
      e instanceof BookError
        ? e.messages.map((m) => ({ where: `${m.file}:${m.line ?? 1}:${m.column ?? 1}`, message: `${m.reason}${m.note ? `. Fix: ${m.note}` : ''}` }))
        : [{ where: changed[0] ?? 'chapters', message: e instanceof Error ? e.message : String(e) }];
    return finish(
      base,
      'failed',
      'tangle',
      `the book does not tangle: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was written`,
      problems,
    );
  }
  // the first cycle, before any save: the book tangles, and nothing is selected to build or boot
  if (changed.length === 0) return finish(base, 'passed', 'done', `the book tangles (${book.chapters.length} chapters); waiting for a save`);
  const specs = book.chapters.filter((c) => changed.includes(c.path)).flatMap((c) => c.smokes);
  if (specs.length === 0) {
    await ctx.report({ ...base, state: 'running', step: 'build', summary: 'building (the changed chapters define no smokes)' });
    const built = await ctx.runTool('build', []);
    return built.code === 0
      ? finish(base, 'passed', 'done', 'tangled and built; the changed chapters define no smokes')
      : finish(base, 'failed', 'build', 'the build failed', toolProblems('build', built.lines));
  }
  const names = specs.map((s) => s.name);
  await ctx.report({ ...base, state: 'running', step: 'smoke', summary: `building and booting ${names.join(', ')}` });
  const run = await ctx.runTool('smoke', names);
  const smokes = await Promise.all(
    specs.map(async (spec): Promise<WatchSmoke> => {
      const where = `${spec.chapter}:${spec.line}`;
      const file = join(ctx.root, 'results', 'smoke', `${spec.name}.json`);
      let result: SmokeResult | undefined;
      try {
        result = validateSmokeResult(JSON.parse(await readFile(file, 'utf8')), file);
      } catch {
        result = undefined;
      }
      // A result from before this cycle means the smoke did not run this time (the build failed first).
      if (!result || result.startedAt < startedAt) return { name: spec.name, where, ok: false, failures: [NOT_BOOTED] };
      return { name: spec.name, where, ok: result.ok, failures: result.ok ? [] : failures(result) };
    }),
  );
  const failed = smokes.filter((s) => !s.ok);
  const summary =
    failed.length === 0 && run.code === 0
      ? `${smokes.length} smoke${smokes.length === 1 ? '' : 's'} passed: ${names.join(', ')}`
      : `${failed.length} of ${smokes.length} smoke${smokes.length === 1 ? '' : 's'} failed: ${failed.map((s) => s.name).join(', ') || '(the run failed)'}`;
  const state = failed.length === 0 && run.code === 0 ? 'passed' : 'failed';
  // a smoke's own failures say why it failed; a run that booted nothing says why in its output
  const booted = smokes.some((x) => x.ok || x.failures[0] !== NOT_BOOTED);
  return finish(
    { ...base, smokes },
    state,
    state === 'passed' ? 'done' : 'smoke',
    summary,
    state === 'passed' || booted ? [] : toolProblems('smoke', run.lines),
  );
}

function finish(
  base: Omit<WatchStatus, 'state' | 'step' | 'summary'>,
  state: WatchStatus['state'],
  step: WatchStatus['step'],
  summary: string,
  problems: WatchProblem[] = [],
): WatchStatus {
  return { ...base, state, step, summary, problems, finishedAt: new Date().toISOString() };
}
