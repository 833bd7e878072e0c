// Decide whether a phase may be stamped: the tree is clean, the book is valid, and every smoke
// the phase's chapters list (a phase may span several files, see tangle/parse/phases.ts) has a
// green result recorded at HEAD, on a clean tree, from the current smoke block and tangled files. Every reason to refuse is collected, not only the first.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Book, Chapter, TangledFile } from '../parse/model.js';
import { analyseChapters } from '../parse/load-book.js';
import { phaseChapters, phaseSmokes, stampChapter } from '../parse/phases.js';
import { BookError, formatMessage } from '../diag/diagnostics.js';
import { allAssertions, changedInputs, computeInputs, validateSmokeResult } from '../smoke/result.js';

export type StampCheck = { ok: true; chapter: Chapter; commit: string; smokes: string[] } | { ok: false; reasons: string[] };

export async function checkStamp(root: string, phase: string): Promise<StampCheck> {
  const reasons: string[] = [];
  const status = await execa('git', ['status', '--porcelain'], { cwd: root, reject: false });
  if (status.exitCode !== 0) return { ok: false, reasons: [`git status failed: ${status.stderr.trim()}`] };
  const dirty = status.stdout.split('\n').filter((line) => line.trim() !== '');
  if (dirty.length > 0) {
    reasons.push(
      `the working tree is not clean (${dirty.length} change${dirty.length === 1 ? '' : 's'}: ${dirty
        .slice(0, 5)
        .map((l) => l.slice(3))
        .join(', ')}${dirty.length > 5 ? ', …' : ''}); commit first`,
    );
  }
  const head = await execa('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: root, reject: false });
  if (head.exitCode !== 0) return { ok: false, reasons: [...reasons, 'there is no HEAD commit'] };
  const commit = head.stdout.trim();

  let book: Book;
  let tangled: TangledFile[];
  try {
    ({ book, files: tangled } = await analyseChapters(root));
  } catch (error) {
    if (!(error instanceof BookError)) throw error;
    return { ok: false, reasons: [...reasons, 'the book has problems (run npm run tangle):', ...error.messages.map(formatMessage)] };
  }
  const byPath = book.chapters.find((c) => c.path === phase || c.path === `chapters/${phase}`);
  const chapters = phaseChapters(book, byPath ? byPath.meta.phase : phase);
  const chapter = stampChapter(chapters);
  if (!chapter) {
    const known = book.chapters.map((c) => c.meta.phase).join(', ');
    return { ok: false, reasons: [...reasons, `no chapter has phase \`${phase}\` (phases: ${known})`] };
  }
  const smokes = phaseSmokes(chapters);
  for (const name of smokes) {
    const spec = chapters.flatMap((c) => c.smokes).find((s) => s.name === name)!;
    const file = `results/smoke/${name}.json`;
    let text: string;
    try {
      text = await readFile(join(root, file), 'utf8');
    } catch {
      reasons.push(`${name}: no result at ${file}; run npm run smoke -- ${name}`);
      continue;
    }
    let result: ReturnType<typeof validateSmokeResult>;
    try {
      result = validateSmokeResult(JSON.parse(text) as unknown, file);
    } catch (error) {
      reasons.push(`${name}: unreadable result: ${(error as Error).message}`);
      continue;
    }
    if (!result.ok) {
      const failed = allAssertions(result)
        .filter((a) => !a.ok)
        .slice(0, 3)
        .map((a) => `${spec.chapter}:${a.chapterLine} ${a.kind} ${a.text}${a.detail ? ` (${a.detail})` : ''}`);
      reasons.push(`${name}: the smoke failed (${failed.join('; ') || 'see the result file'})`);
    }
    if (result.commit !== commit) reasons.push(`${name}: the result is from commit ${result.commit}, HEAD is ${commit}; rerun npm run smoke -- ${name}`);
    if (result.dirty) reasons.push(`${name}: the result was recorded on a dirty tree; commit, then rerun npm run smoke -- ${name}`);
    for (const what of changedInputs(result.inputs, computeInputs(tangled, spec))) {
      reasons.push(`${name}: ${what} changed since the result was recorded; rerun npm run smoke -- ${name}`);
    }
  }
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, chapter, commit, smokes };
}
