// The book's cross-reference index (in the spirit of CWEB's): for every chunk, where it is defined, which later
// blocks extend it and which blocks use it; for every tangled file, the blocks that write it. Built once from the
// parsed Book, then read by the chapter renderer and the file map.
import { parseReference, type Block, type Book, type Reference } from '../../tangle/index.js';
import { chapterHref } from './slugs.js';

/** One code block, located for a reader: its chapter, fence line and a link to it. */
export interface BlockRef {
  chapter: string;
  chapterTitle: string;
  phase: string;
  line: number;
  href: string;
}

export interface ChunkXref {
  name: string;
  /** Every defining block in book order: the first is the definition, the rest extend it (`append`). */
  blocks: BlockRef[];
  /** Blocks whose body references the chunk. */
  uses: BlockRef[];
}

export interface FileXref {
  path: string;
  /** Every block writing the file, in book order. */
  blocks: BlockRef[];
}

export interface Xref {
  chunks: Map<string, ChunkXref>;
  files: Map<string, FileXref>;
}

/** The chunk a body line references (the tangler's own rule, so site and tangle never disagree). */
export const referenceIn: (line: string) => Reference | undefined = parseReference;

export function referencedChunks(block: Block): string[] {
  const names: string[] = [];
  for (const line of block.value.split('\n')) {
    const ref = referenceIn(line);
    if (ref && !names.includes(ref.name)) names.push(ref.name);
  }
  return names;
}

export function buildXref(book: Book): Xref {
  const chunks = new Map<string, ChunkXref>();
  const files = new Map<string, FileXref>();
  const chunk = (name: string): ChunkXref => {
    let c = chunks.get(name);
    if (!c) {
      c = { name, blocks: [], uses: [] };
      chunks.set(name, c);
    }
    return c;
  };
  for (const chapter of book.chapters) {
    const locate = (block: Block): BlockRef => ({
      chapter: chapter.path,
      chapterTitle: chapter.meta.title,
      phase: chapter.meta.phase,
      line: block.line,
      href: chapterHref(chapter.path, block.line),
    });
    for (const block of chapter.blocks) {
      if (block.kind === 'chunk' && block.target) chunk(block.target).blocks.push(locate(block));
      if (block.kind === 'file' && block.target) {
        let f = files.get(block.target);
        if (!f) {
          f = { path: block.target, blocks: [] };
          files.set(block.target, f);
        }
        f.blocks.push(locate(block));
      }
      if (block.kind === 'chunk' || block.kind === 'file') {
        for (const name of referencedChunks(block)) chunk(name).uses.push(locate(block));
      }
    }
  }
  return { chunks, files };
}

/** The blocks after `line` of `chapter` in book order: what "extended in" lists for one definition block. */
export function laterBlocks(refs: BlockRef[], book: Book, chapter: string, line: number): BlockRef[] {
  const order = new Map(book.chapters.map((c, i) => [c.path, i] as const));
  const here = order.get(chapter) ?? 0;
  return refs.filter((r) => {
    const at = order.get(r.chapter) ?? 0;
    return at > here || (at === here && r.line > line);
  });
}
