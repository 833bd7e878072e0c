// Computed expectations (`= "prefix" cue export <file>`, chapter A.2): before a smoke's transcript is checked, each is
// replaced by the lines the pinned `cue` (build/tools/cue, set-up's) prints for the file, run in the file's folder so
// cue finds that folder's cue.mod, each line with the prefix and expected in order like `>` lines. The expected text is
// therefore never pasted into a chapter: change the input and the expectation follows. A tool that fails or prints
// nothing becomes a failing assertion at the directive's line, with the tool's message.
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { SmokeSpec, Step } from '../parse/model.js';
import type { AssertionResult } from './result.js';

export const CUE = 'build/tools/cue';

export interface Expanded {
  spec: SmokeSpec;
  /** failures of the tools themselves, reported as assertions */
  problems: AssertionResult[];
}

/** Runs the tool of one computed step; its stdout lines, or an error message. */
export async function computeLines(root: string, step: Extract<Step, { kind: 'computed' }>): Promise<string[] | { error: string }> {
  const r = await execa(join(root, CUE), ['export', basename(step.file)], { cwd: join(root, dirname(step.file)), reject: false, timeout: 120_000 });
  if (r.failed || r.exitCode !== 0) return { error: `\`cue export ${step.file}\` failed: ${String(r.stderr || r.message || '').trim()}` };
  const lines = r.stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) return { error: `\`cue export ${step.file}\` printed nothing` };
  return lines;
}

/** The spec with every computed step expanded into exact `line` steps. */
export async function expandComputed(root: string, spec: SmokeSpec): Promise<Expanded> {
  if (!spec.steps.some((s) => s.kind === 'computed')) return { spec, problems: [] };
  const steps: Step[] = [];
  const problems: AssertionResult[] = [];
  for (const step of spec.steps) {
    if (step.kind !== 'computed') {
      steps.push(step);
      continue;
    }
    const lines = await computeLines(root, step);
    if (!Array.isArray(lines)) {
      problems.push({ kind: 'line', text: `= ${JSON.stringify(step.prefix)} cue export ${step.file}`, chapterLine: step.line, ok: false, detail: lines.error });
      continue;
    }
    for (const text of lines) steps.push({ kind: 'line', matcher: { kind: 'exact', text: step.prefix + text, line: step.line } });
  }
  return { spec: { ...spec, steps }, problems };
}
