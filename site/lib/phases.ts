// The phase board: the plan's phase list (chapters/phases.yaml, data kept in the book) joined with each phase's
// chapters' front matter and the smoke results as they stand now. A phase is done only when its chapter carries a
// closeout stamp AND every one of its smokes is passing now; a phase without a chapter is planned.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { phaseChapters, phaseSmokes, stampChapter, type Book, type Chapter, type ChapterMeta, type Stamp, type Status } from '../../tangle/index.js';
import { STATE_LABEL, type SmokeState, type SmokeView } from './results.js';
import { chapterHref, smokeHref } from './slugs.js';

export interface Phase {
  id: string;
  name: string;
  demos: string[];
  smokes: string[];
}

export interface BoardSmoke {
  name: string;
  state: SmokeState;
  reason: string;
  href?: string;
}

export interface BoardRow {
  id: string;
  name: string;
  demos: string[];
  /** What the board shows: the chapter's status, except that "done" needs a stamp and green smokes. */
  status: Status;
  claimed?: Status;
  note?: string;
  chapter?: { path: string; title: string; href: string };
  stamp?: Stamp;
  smokes: BoardSmoke[];
  /** A chapter outside the plan's phase list (an appendix). */
  appendix?: boolean;
}

export async function loadPhases(bookRoot: string): Promise<Phase[]> {
  const file = path.join(bookRoot, 'chapters', 'phases.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  let data: { phases?: unknown };
  try {
    data = parse(text) as { phases?: unknown };
  } catch (e) {
    // yaml's message carries the line and column but not the file
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  if (!data || !Array.isArray(data.phases)) throw new Error(`${file}: expected a top-level "phases" list`);
  return data.phases.map((p: Record<string, unknown>, i: number) => {
    const where = `${file}: phases[${i}]`;
    if (typeof p?.id !== 'string' || typeof p.name !== 'string') throw new Error(`${where}: expected string "id" and "name"`);
    const list = (k: string): string[] => {
      const v = p[k] ?? [];
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new Error(`${where}.${k}: expected a list of names`);
      return v as string[];
    };
    return { id: p.id, name: p.name, demos: list('demos'), smokes: list('smokes') };
  });
}

export function phaseBoard(phases: Phase[], book: Book, views: Map<string, SmokeView>): BoardRow[] {
  const rows = phases.map((phase) => boardRow(phase, phaseChapters(book, phase.id), views));
  // Chapters outside the plan's phase list (the appendices: kernel substrate, chapter format, manifests) follow,
  // so their smokes are on the board too. The introduction (A.0) has nothing to track.
  for (const chapter of book.chapters) {
    if (chapter.meta.phase === 'A.0' || phases.some((p) => p.id === chapter.meta.phase)) continue;
    if (rows.some((r) => r.id === chapter.meta.phase)) continue; // an appendix told in several files: one row
    const chapters = phaseChapters(book, chapter.meta.phase);
    rows.push({ ...boardRow({ id: chapter.meta.phase, name: stampChapter(chapters)!.meta.title, demos: [], smokes: [] }, chapters, views), appendix: true });
  }
  return rows;
}

/** The phase list's smokes for a phase, then any more its chapter defines, each once. */
function smokeNames(phaseSmokes: readonly string[], chapterSmokes: readonly string[]): string[] {
  return [...new Set([...phaseSmokes, ...chapterSmokes])];
}

/** A phase's row: its chapters (several files may tell one phase) give the stamp, the status and the smokes. */
function boardRow(phase: Phase, chapters: Chapter[], views: Map<string, SmokeView>): BoardRow {
  const chapter = stampChapter(chapters);
  const smokes: BoardSmoke[] = smokeNames(phase.smokes, phaseSmokes(chapters)).map((name) => {
    const v = views.get(name);
    const spec = v?.spec;
    return {
      name,
      state: v?.state ?? 'missing',
      reason: v?.reason ?? 'no chapter defines this smoke yet',
      href: spec ? smokeHref(spec.chapter, name) : undefined,
    };
  });
  const row: BoardRow = { id: phase.id, name: phase.name, demos: phase.demos, status: 'planned', smokes };
  if (!chapter) return row;
  row.chapter = { path: chapter.path, title: chapter.meta.title, href: chapterHref(chapter.path) };
  row.stamp = chapter.meta.stamp;
  Object.assign(row, standing(chapter.meta, smokes));
  return row;
}

export interface Standing {
  status: Status;
  claimed?: Status;
  note?: string;
}

/**
 * What a chapter's status honestly is now: "done" needs the closeout stamp and every smoke passing now. A chapter
 * that claims done without both is shown in progress, with the reason.
 */
export function standing(meta: ChapterMeta, smokes: BoardSmoke[]): Standing {
  const notGreen = smokes.filter((s) => s.state !== 'pass').map((s) => `${s.name} is ${STATE_LABEL[s.state]}`);
  if (meta.stamp && notGreen.length === 0) return { status: 'done' };
  if (meta.status === 'done') {
    const why = [...(meta.stamp ? [] : ['no closeout stamp']), ...notGreen];
    return { status: 'in-progress', claimed: 'done', note: `marked done, not verified: ${why.join('; ')}` };
  }
  const out: Standing = { status: meta.status };
  if (meta.stamp) out.note = `stamped, but now: ${notGreen.join('; ')}`;
  return out;
}

/** A chapter's standing is its phase's: the stamp of the chapter that carries it, and the smokes of every chapter of
 * the phase (and of the phase list, when it names more). */
export function chapterStanding(book: Book, chapter: Chapter, phases: Phase[], views: Map<string, SmokeView>): Standing {
  const chapters = phaseChapters(book, chapter.meta.phase);
  const names = smokeNames(phases.find((p) => p.id === chapter.meta.phase)?.smokes ?? [], phaseSmokes(chapters));
  return standing(
    stampChapter(chapters)!.meta,
    names.map((name) => ({ name, state: views.get(name)?.state ?? 'missing', reason: '' })),
  );
}
