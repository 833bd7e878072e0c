// The file map: every tangled file with the chapter blocks that write it, and a view of each file cut into the
// regions of the tangle map (MapRange), each region linking back to the chapter line it came from. Also the view
// of each hand-written file an include block shows.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Element } from 'hast';
import { toHtml } from 'hast-util-to-html';
import { h } from 'hastscript';
import { regionLines, type Book, type MapRange, type TangledFile } from '../../tangle/index.js';
import { highlight, joinLines, tokenStyleSheet } from './highlight.js';
import { chapterHref } from './slugs.js';

export interface Writer {
  chapter: string;
  chapterTitle: string;
  phase: string;
  /** Chapter line of the first tangled line this block contributed. */
  chapterLine: number;
  block: string;
  /** Output lines it contributed. */
  lines: number;
  href: string;
}

export interface FileMapEntry {
  path: string;
  lines: number;
  writers: Writer[];
}

const EXT_LANG: Record<string, string> = {
  '.rs': 'rust',
  '.c': 'c',
  '.h': 'c',
  '.go': 'go',
  '.toml': 'toml',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.sh': 'sh',
  '.json': 'json',
  '.ts': 'ts',
  '.wat': 'wat',
  '.cue': 'cue',
  '.md': 'md',
};

export function langOf(file: string): string {
  return EXT_LANG[path.extname(file)] ?? 'text';
}

/** One entry per tangled file, sorted by path; writers in book order, one per contributing block. */
export function buildFileMap(book: Book, tangled: TangledFile[]): FileMapEntry[] {
  const order = new Map(book.chapters.map((c, i) => [c.path, i] as const));
  const meta = new Map(book.chapters.map((c) => [c.path, c.meta] as const));
  return [...tangled]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => {
      const writers = new Map<string, Writer>();
      for (const r of file.ranges) {
        const key = `${r.chapter}\0${r.block}`;
        const seen = writers.get(key);
        if (seen) {
          seen.lines += r.endLine - r.startLine + 1;
          seen.chapterLine = Math.min(seen.chapterLine, r.chapterLine);
          continue;
        }
        const m = meta.get(r.chapter);
        writers.set(key, {
          chapter: r.chapter,
          chapterTitle: m?.title ?? r.chapter,
          phase: m?.phase ?? '',
          chapterLine: r.chapterLine,
          block: r.block,
          lines: r.endLine - r.startLine + 1,
          href: chapterHref(r.chapter, r.chapterLine),
        });
      }
      const list = [...writers.values()].sort((a, b) => (order.get(a.chapter) ?? 0) - (order.get(b.chapter) ?? 0) || a.chapterLine - b.chapterLine);
      return { path: file.path, lines: lineCount(file.content), writers: list };
    });
}

function lineCount(content: string): number {
  return content.replace(/\n$/, '').split('\n').length;
}

interface Segment {
  range?: MapRange;
  lines: Element[];
}

/** The tangled file as HTML: highlighted once, then cut into one section per tangle-map range. */
export async function renderTangledFile(file: TangledFile): Promise<string> {
  const lineEls: Element[] = [];
  const pre = await highlight(file.content.replace(/\n$/, ''), langOf(file.path), (line, { index }) => {
    line.properties.id = `L${index}`;
    line.properties.dataLine = String(index);
    lineEls.push(line);
  });
  const rangeAt = (n: number) => file.ranges.find((r) => n >= r.startLine && n <= r.endLine);
  const segments: Segment[] = [];
  lineEls.forEach((el, i) => {
    const range = rangeAt(i + 1);
    const last = segments[segments.length - 1];
    if (last && last.range === range) last.lines.push(el);
    else segments.push({ range, lines: [el] });
  });
  const sections = segments.map((seg) => {
    const r = seg.range;
    const origin = r
      ? h(
          'a.range-origin',
          { href: chapterHref(r.chapter, r.chapterLine), dataChapter: r.chapter, dataChapterLine: String(r.chapterLine) },
          `lines ${r.startLine}–${r.endLine} ← ${r.chapter}:${r.chapterLine} (${r.block})`,
        )
      : h('span.range-origin.generated', 'written by the tangler');
    return h('section.tangled-range', [origin, h('pre', { ...pre.properties }, h('code', joinLines(seg.lines)))]);
  });
  const view = h('div.tangled-file', { dataPath: file.path }, sections);
  return toHtml([tokenStyleSheet(view), view].filter((n) => n !== undefined));
}

export interface SourceRegion {
  name: string;
  start: number;
  end: number;
  href: string;
  by: string;
}
export interface SourceFile {
  path: string;
  regions: SourceRegion[];
}

/** The hand-written files that include blocks show, with the regions each block names. */
export async function includedSources(book: Book): Promise<SourceFile[]> {
  const files = new Map<string, SourceFile>();
  for (const chapter of book.chapters) {
    for (const b of chapter.blocks) {
      if (b.kind !== 'include' || !b.target) continue;
      let f = files.get(b.target);
      if (!f) {
        f = { path: b.target, regions: [] };
        files.set(b.target, f);
      }
      const lines = regionLines(await readFile(path.join(book.root, b.target), 'utf8'), b.region);
      if (!lines) throw new Error(`${chapter.path}:${b.line}: region ${b.region} not found in ${b.target}`);
      f.regions.push({
        name: b.region ?? '(whole file)',
        ...lines,
        href: chapterHref(chapter.path, b.line),
        by: `${chapter.meta.phase} ${chapter.meta.title}`,
      });
    }
  }
  return [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A hand-written file as HTML with line ids, its shown regions marked. */
export async function renderSourceFile(bookRoot: string, file: SourceFile): Promise<string> {
  const source = await readFile(path.join(bookRoot, file.path), 'utf8');
  const pre = await highlight(source.replace(/\n$/, ''), langOf(file.path), (line, { index }) => {
    line.properties.id = `L${index}`;
    line.properties.dataLine = String(index);
    if (file.regions.some((r) => index >= r.start && index <= r.end)) line.properties.className = ['line', 'in-region'];
  });
  return toHtml([tokenStyleSheet(pre), pre].filter((n) => n !== undefined));
}
