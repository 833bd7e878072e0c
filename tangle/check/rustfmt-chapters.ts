// rustfmt for tangled Rust, through the chapters: the tangled files are never edited, so each one is formatted in
// memory and every changed stretch of lines is mapped back, through the tangle map's origin of each line, to the
// chapter lines it came from. A stretch that lies inside one block (consecutive lines of one file or chunk block,
// at one reference indentation) is rewritten there; one that crosses blocks is reported at its chapter line, to be
// fixed by hand. `npm run fmt` applies the edits and re-tangles until rustfmt has nothing left to change; `npm run
// fmt -- --check` reports where the chapters are not formatted (chapter A.2, "Formatting").
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { MapRange, TangledFile } from '../parse/model.js';
import { diffLines, type Hunk } from './line-diff.js';

/** Where one tangled line came from (the tangle map, one entry per line). */
interface Origin {
  chapter: string;
  chapterLine: number;
  block: string;
  indent: number;
}

/** Replace `remove` chapter lines from `line` (1-based) with `insert`. */
export interface ChapterEdit {
  chapter: string;
  line: number;
  remove: number;
  insert: string[];
}
/** A changed stretch the tool cannot map to one block, or a file rustfmt cannot parse. */
export interface FmtProblem {
  chapter: string;
  line: number;
  path: string;
  generatedLine: number;
  reason: string;
}

export interface FmtPlan {
  edits: ChapterEdit[];
  problems: FmtProblem[];
  changedFiles: string[];
}

export type Formatter = (path: string, source: string) => Promise<{ ok: true; text: string } | { ok: false; error: string }>;

/** rustfmt on stdin with the repository's rustfmt.toml (which sets the edition). */
export function rustfmt(root: string): Formatter {
  return async (_path, source) => {
    const r = await execa('rustfmt', ['--config-path', join(root, 'rustfmt.toml'), '--emit', 'stdout'], { input: source, reject: false, cwd: root });
    return r.exitCode === 0 ? { ok: true, text: r.stdout.endsWith('\n') || r.stdout === '' ? r.stdout : `${r.stdout}\n` } : { ok: false, error: r.stderr };
  };
}

function origins(ranges: readonly MapRange[]): Origin[] {
  const out: Origin[] = [];
  for (const r of ranges) {
    for (let line = r.startLine; line <= r.endLine; line++) {
      out[line - 1] = { chapter: r.chapter, chapterLine: r.chapterLine + (line - r.startLine), block: r.block, indent: r.indent ?? 0 };
    }
  }
  return out;
}

const split = (text: string): string[] => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));

/** Pure: the chapter edits that make `file` read as `formatted`, and the stretches that cannot be mapped. */
export function planFile(file: TangledFile, formatted: string, chapterText: (chapter: string) => string[]): { edits: ChapterEdit[]; problems: FmtProblem[] } {
  const before = split(file.content);
  const after = split(formatted);
  const from = origins(file.ranges);
  const edits: ChapterEdit[] = [];
  const problems: FmtProblem[] = [];
  for (const hunk of diffLines(before, after)) {
    const mapped = mapHunk(hunk, before, after, from, chapterText);
    if (typeof mapped === 'string') {
      const at = from[Math.min(hunk.oldStart, before.length - 1)] ?? from[0]!;
      problems.push({ chapter: at.chapter, line: at.chapterLine, path: file.path, generatedLine: hunk.oldStart + 1, reason: mapped });
    } else edits.push(...mapped);
  }
  return { edits, problems };
}

/** One hunk as chapter edits: one edit when its lines come from one block, else one per block it crosses, cut where
 * the rustfmt lines hold the same tokens (ignoring whitespace) as that block's lines; a reason when it cannot. */
function mapHunk(h: Hunk, before: string[], after: string[], from: Origin[], chapterText: (c: string) => string[]): ChapterEdit[] | string {
  const runs = blockRuns(h, from);
  if (runs.length <= 1) {
    const edit = mapRun(h, before, after, from, chapterText);
    return typeof edit === 'string' ? edit : [edit];
  }
  const squash = (lines: string[]) => lines.join('').replace(/\s+/g, '');
  const edits: ChapterEdit[] = [];
  let next = h.newStart;
  for (const [k, run] of runs.entries()) {
    const want = squash(before.slice(run.oldStart, run.oldEnd));
    let end = next;
    if (k === runs.length - 1) end = h.newEnd;
    else {
      while (end < h.newEnd && squash(after.slice(next, end)) !== want) end++;
      if (squash(after.slice(next, end)) !== want) {
        return `rustfmt moves code across the lines of two blocks (${runs[0]!.block} and ${run.block}); format them by hand`;
      }
    }
    if (k === runs.length - 1 && squash(after.slice(next, end)) !== want) {
      return `rustfmt moves code across the lines of two blocks (${runs[0]!.block} and ${run.block}); format them by hand`;
    }
    const edit = mapRun({ oldStart: run.oldStart, oldEnd: run.oldEnd, newStart: next, newEnd: end }, before, after, from, chapterText);
    if (typeof edit === 'string') return edit;
    edits.push(edit);
    next = end;
  }
  return edits;
}

/** The hunk's old lines cut into runs of consecutive lines of one block at one indentation. */
function blockRuns(h: Hunk, from: Origin[]): { oldStart: number; oldEnd: number; block: string }[] {
  const runs: { oldStart: number; oldEnd: number; block: string }[] = [];
  for (let i = h.oldStart; i < h.oldEnd; i++) {
    const o = from[i]!;
    const last = runs.at(-1);
    const prev = from[i - 1];
    if (last && prev && prev.chapter === o.chapter && prev.block === o.block && prev.indent === o.indent && prev.chapterLine + 1 === o.chapterLine)
      last.oldEnd = i + 1;
    else runs.push({ oldStart: i, oldEnd: i + 1, block: o.block });
  }
  return runs;
}

function mapRun(h: Hunk, before: string[], after: string[], from: Origin[], chapterText: (c: string) => string[]): ChapterEdit | string {
  const old = from.slice(h.oldStart, h.oldEnd);
  // a pure insertion belongs to the block of the line before it (or, at the top, of the line after it)
  const anchor = old[0] ?? from[h.oldStart - 1] ?? from[h.oldStart];
  if (!anchor) return 'cannot place the change';
  const pad = ' '.repeat(anchor.indent);
  const insert: string[] = [];
  for (const line of after.slice(h.newStart, h.newEnd)) {
    if (line !== '' && !line.startsWith(pad)) return `rustfmt moves a line left of the ${anchor.indent} columns its chunk reference indents; format it by hand`;
    insert.push(line.slice(line === '' ? 0 : anchor.indent));
  }
  const lines = chapterText(anchor.chapter);
  for (const [i, o] of old.entries()) {
    const want = before[h.oldStart + i]!;
    const text = lines[o.chapterLine - 1];
    if (text === undefined || (want === '' ? text.trim() !== '' : text !== want.slice(anchor.indent))) {
      return 'the tangled line is not the chapter line it maps to (a header or an indented block); format it by hand';
    }
  }
  const line = old.length > 0 ? anchor.chapterLine : anchor.chapterLine + (from[h.oldStart - 1] === anchor ? 1 : 0);
  return { chapter: anchor.chapter, line, remove: old.length, insert };
}

/** Formats every tangled `.rs` file and plans the chapter edits. */
export async function planRustfmt(files: readonly TangledFile[], chapterText: (chapter: string) => string[], format: Formatter): Promise<FmtPlan> {
  const plan: FmtPlan = { edits: [], problems: [], changedFiles: [] };
  for (const file of files.filter((f) => f.path.endsWith('.rs'))) {
    const r = await format(file.path, file.content);
    if (!r.ok) {
      const at = /<stdin>:(\d+)/.exec(r.error);
      const o = origins(file.ranges)[(at ? Number(at[1]) : 1) - 1] ?? origins(file.ranges)[0]!;
      plan.problems.push({
        chapter: o.chapter,
        line: o.chapterLine,
        path: file.path,
        generatedLine: at ? Number(at[1]) : 1,
        reason: `rustfmt cannot format it: ${r.error.trim().split('\n')[0]}`,
      });
      continue;
    }
    if (r.text === file.content) continue;
    plan.changedFiles.push(file.path);
    const { edits, problems } = planFile(file, r.text, chapterText);
    plan.edits.push(...edits);
    plan.problems.push(...problems);
  }
  return plan;
}

/** Pure: `lines` with `edits` applied (a chunk referenced twice yields the same edit twice; it is applied once).
 * Overlapping different edits are refused. */
export function applyEdits(lines: readonly string[], edits: readonly ChapterEdit[]): string[] {
  const unique = [...new Map(edits.map((e) => [`${e.line}:${e.remove}:${e.insert.join('\n')}`, e])).values()].sort(
    (a, b) => b.line - a.line || b.remove - a.remove,
  );
  const out = [...lines];
  let floor = Infinity;
  for (const e of unique) {
    if (e.line + e.remove > floor)
      throw new Error(`${e.chapter}:${e.line}: two different rustfmt edits overlap here (a chunk used at two indentations?); format it by hand`);
    out.splice(e.line - 1, e.remove, ...e.insert);
    floor = e.line;
  }
  return out;
}

/** Writes the planned edits into the chapters; returns the chapters changed. */
export async function applyPlan(root: string, edits: readonly ChapterEdit[]): Promise<string[]> {
  const byChapter = new Map<string, ChapterEdit[]>();
  for (const e of edits) byChapter.set(e.chapter, [...(byChapter.get(e.chapter) ?? []), e]);
  for (const [chapter, es] of byChapter) {
    const text = await readFile(join(root, chapter), 'utf8');
    await writeFile(join(root, chapter), applyEdits(text.split('\n'), es).join('\n'));
  }
  return [...byChapter.keys()];
}
