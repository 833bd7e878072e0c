// Tangle the book: gather file blocks per path in book order, expand chunk references, put the
// header comment first and record which chapter line every output line came from.
import type { Block, Book, ChunkBlock, MapRange, TangledFile } from '../parse/model.js';
import { BookError, Diagnostics } from '../diag/diagnostics.js';
import type { VFileMessage } from 'vfile-message';
import { headerLine } from './comments.js';
import { blockLabel, buildChunks, Expander, referencedNames, type OutLine } from './expand.js';

/** What one analysis of the book yields: the tangled files, the chunk table, and every problem found. */
export interface TangleAnalysis {
  files: TangledFile[];
  chunks: Map<string, Block[]>;
  messages: VFileMessage[];
}

/** For a chapter state: chunks only later chapters define (references to them expand to nothing), and names that
 * later chapters reference (a chunk they use is not unused). */
export interface StateOptions {
  laterChunks?: ReadonlySet<string>;
  referencedLater?: ReadonlySet<string>;
}

/** Tangle and report every problem instead of stopping at the first. */
export function analyzeBook(book: Book, diag = new Diagnostics(), state: StateOptions = {}): TangleAnalysis {
  const blocks = book.chapters.flatMap((chapter) => chapter.blocks);
  const rejectedChunks: ChunkBlock[] = [];
  const chunks = buildChunks(blocks, diag, rejectedChunks);
  const expander = new Expander(chunks, diag, state.laterChunks);
  for (const block of rejectedChunks) expander.expandBlock(block, [block.target]);

  const used = referencedNames(blocks);
  for (const [name, definition] of chunks) {
    const first = definition[0]!;
    if (!used.has(name) && !state.referencedLater?.has(name))
      diag.error(
        { chapter: first.chapter, line: first.line },
        {
          reason: `Unexpected chunk \`${name}\` that nothing references`,
          ruleId: 'unused-chunk',
          hint: `reference it with a line \`<<${name}>>\` in a file block or another chunk, or remove it`,
        },
      );
    // Expand each chunk on its own too, so a cycle no file reaches is still found.
    for (const part of definition) expander.expandBlock(part, [name]);
  }

  const files: TangledFile[] = [];
  const { claimed, rejected } = fileBlocks(blocks, diag);
  for (const block of rejected) expander.expandBlock(block); // still report its reference problems
  for (const [path, parts] of claimed) {
    const lines = parts.flatMap((block) => expander.expandBlock(block));
    files.push(assemble(path, parts[0]!, lines));
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, chunks, messages: diag.messages };
}

/** Pure: the tangled files of a valid book; throws BookError listing every problem otherwise. */
export function tangleBook(book: Book): TangledFile[] {
  const { files, messages } = analyzeBook(book);
  if (messages.length > 0) throw new BookError(messages);
  return files;
}

/** Path → its blocks: the first claims the file, the rest must say `append`. */
function fileBlocks(blocks: readonly Block[], diag: Diagnostics): { claimed: Map<string, Block[]>; rejected: Block[] } {
  const files = new Map<string, Block[]>();
  const rejected: Block[] = [];
  for (const block of blocks) {
    if (block.kind !== 'file' || block.target === undefined) continue;
    const path = block.target;
    const existing = files.get(path);
    if (!existing) {
      if (block.append)
        diag.error(
          { chapter: block.chapter, line: block.line },
          {
            reason: `Unexpected \`append\` to \`${path}\`, which no earlier block writes`,
            ruleId: 'append-without-start',
            hint: 'remove `append` here, or write the start of the file in an earlier block or chapter',
          },
        );
      files.set(path, [block]);
      continue;
    }
    if (!block.append) {
      const first = existing[0]!;
      diag.error(
        { chapter: block.chapter, line: block.line },
        {
          reason: `Unexpected second block claiming \`${path}\`, first claimed at ${first.chapter}:${first.line}`,
          ruleId: 'file-claimed-twice',
          hint: 'add `append` to continue the file, or write to another path',
          cause: { chapter: first.chapter, line: first.line, reason: 'first claimed here' },
        },
      );
      rejected.push(block);
      continue;
    }
    existing.push(block);
  }
  return { claimed: files, rejected };
}

function assemble(path: string, first: Block, body: OutLine[]): TangledFile {
  const chapters = [...new Set(body.map((line) => line.chapter))];
  if (chapters.length === 0) chapters.push(first.chapter);
  const header = headerLine(path, chapters);
  const lines = [...body];
  if (header !== undefined) {
    const headerOut: OutLine = { text: header, chapter: first.chapter, chapterLine: first.line, block: blockLabel(first) };
    const at = /^#!\s*\//.test(lines[0]?.text ?? '') ? 1 : 0; // a shebang must stay first (`#![no_std]` is not one)
    lines.splice(at, 0, headerOut);
  }
  return { path, content: lines.map((line) => `${line.text}\n`).join(''), ranges: toRanges(lines) };
}

/** Merge consecutive output lines that come from consecutive lines of one block. */
export function toRanges(lines: readonly OutLine[]): MapRange[] {
  const ranges: MapRange[] = [];
  lines.forEach((line, index) => {
    const outputLine = index + 1;
    const last = ranges.at(-1);
    if (
      last &&
      last.chapter === line.chapter &&
      last.block === line.block &&
      last.indent === line.indent &&
      last.endLine === outputLine - 1 &&
      last.chapterLine + (last.endLine - last.startLine) === line.chapterLine - 1
    ) {
      last.endLine = outputLine;
      return;
    }
    ranges.push({
      startLine: outputLine,
      endLine: outputLine,
      chapter: line.chapter,
      chapterLine: line.chapterLine,
      block: line.block,
      ...(line.indent ? { indent: line.indent } : {}),
    });
  });
  return ranges;
}
