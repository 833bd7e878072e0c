// Remark plugin: turns each code block of a chapter into a captioned, highlighted figure. File and chunk blocks get
// their target in the caption, every `<<chunk>>` reference line becomes a link to the chunk's definition, and a
// footer lists where the chunk is used and which later blocks extend it. Include blocks show the named region of
// a hand-written file with that file's line numbers and a link to the whole file. Smoke blocks are left to
// remark-smoke-panels. The blocks themselves come from the tangler's parse (Chapter.blocks), matched by fence line.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import type { Parent, Root } from 'mdast';
import type {} from 'mdast-util-to-hast';
import { visit } from 'unist-util-visit';
import { regionLines, type Block, type Book, type Chapter, type IncludeBlock } from '../../tangle/index.js';
import { highlight } from './highlight.js';
import { sourceHref, tangledHref } from './slugs.js';
import { laterBlocks, referenceIn, type BlockRef, type Xref } from './xref.js';

export interface BookBlocksOptions {
  book: Book;
  chapter: Chapter;
  xref: Xref;
}

/**
 * An mdast node that mdast-util-to-hast turns into exactly `el`: an unknown node type (so no handler wraps it in
 * `<pre>`) carrying `data.hName`, `data.hProperties` and `data.hChildren`.
 */
export function hastNode(el: Element): BookBlock {
  return { type: 'bookBlock', children: [], data: { hName: el.tagName, hProperties: el.properties, hChildren: el.children } };
}

/** The node `hastNode` makes, known to mdast's types so that it can stand where a code block stood. */
export interface BookBlock extends Parent {
  type: 'bookBlock';
  children: [];
}

declare module 'mdast' {
  interface RootContentMap {
    bookBlock: BookBlock;
  }
  interface BlockContentMap {
    bookBlock: BookBlock;
  }
}

export default function remarkBookBlocks(options: BookBlocksOptions) {
  if (!options?.book || !options.chapter || !options.xref) throw new Error('remark-book-blocks: expected { book, chapter, xref }');
  const { book, chapter, xref } = options;
  const byLine = new Map(chapter.blocks.map((b) => [b.line, b] as const));

  return async function transform(tree: Root): Promise<void> {
    const jobs: Promise<void>[] = [];
    visit(tree, 'code', (node, index, parent) => {
      if (!parent || index === undefined || !node.position) return;
      const block = byLine.get(node.position.start.line);
      if (!block || block.kind === 'smoke') return;
      jobs.push(
        renderBlock(block, book, xref).then((el) => {
          parent.children[index] = hastNode(el);
        }),
      );
    });
    await Promise.all(jobs);
  };
}

export async function renderBlock(block: Block, book: Book, xref: Xref): Promise<Element> {
  switch (block.kind) {
    case 'include':
      return renderInclude(block, book);
    case 'file':
    case 'chunk':
      return renderTargetBlock(block, book, xref);
    default:
      return figure(block, [], await numbered(block, xref), []);
  }
}

function figure(block: Block, caption: ElementContent[], pre: Element, footer: ElementContent[]): Element {
  const props: Record<string, string> = { className: `book-block kind-${block.kind}`, id: `L${block.line}`, dataKind: block.kind };
  if (block.kind !== 'plain') props.dataTarget = block.target;
  return h('figure', props, [...(caption.length ? [h('figcaption', caption)] : []), pre, ...(footer.length ? [h('footer.xref', footer)] : [])]);
}

/** Highlights a block with chapter line numbers as ids and `<<chunk>>` lines as links. */
async function numbered(block: Block, xref: Xref): Promise<Element> {
  return highlight(block.value, block.lang, (line, { index, text }) => {
    const chapterLine = block.bodyLine + index - 1;
    line.properties.id = `L${chapterLine}`;
    line.properties.dataLine = String(chapterLine);
    const ref = block.kind === 'plain' ? undefined : referenceIn(text);
    if (!ref) return;
    const def = xref.chunks.get(ref.name)?.blocks[0];
    const label = `<<${ref.name}>>`;
    line.children = [
      { type: 'text', value: ref.indent },
      def
        ? h('a.chunk-ref', { href: def.href, dataChunk: ref.name, title: `defined in ${def.phase} ${def.chapterTitle}, line ${def.line}` }, label)
        : h('span.chunk-ref.undefined', { dataChunk: ref.name }, label),
    ];
  });
}

async function renderTargetBlock(block: Block, book: Book, xref: Xref): Promise<Element> {
  const target = block.kind === 'plain' ? '' : block.target;
  const isChunk = block.kind === 'chunk';
  const entry = isChunk ? xref.chunks.get(target) : xref.files.get(target);
  const all = entry?.blocks ?? [];
  const first = all[0];
  const isFirst = !first || (first.chapter === block.chapter && first.line === block.line);
  const later = laterBlocks(all, book, block.chapter, block.line);

  const name = isChunk ? h('a.block-name', { href: `#L${block.line}` }, `«${target}»`) : h('a.block-name', { href: tangledHref(target) }, h('code', target));
  const caption: ElementContent[] = [
    h('span.block-kind', isChunk ? 'chunk' : 'file'),
    { type: 'text', value: ' ' },
    name,
    h('span.block-op', { title: isFirst ? 'defines' : 'appends to' }, isFirst ? ' ≡' : ' +≡'),
  ];

  const footer: ElementContent[] = [];
  if (!isFirst && first) footer.push(refList(isChunk ? 'Extends the definition in' : 'Continues the file from', [first]));
  if (later.length) footer.push(refList(isChunk ? 'Extended in' : 'Continued in', later));
  if (isChunk && entry && 'uses' in entry) {
    footer.push(entry.uses.length ? refList('Used in', entry.uses) : h('span.xref-item', 'Never used.'));
  }
  return figure(block, caption, await numbered(block, xref), footer);
}

function refList(label: string, refs: BlockRef[]): Element {
  const items: ElementContent[] = [];
  refs.forEach((r, i) => {
    if (i > 0) items.push({ type: 'text', value: ', ' });
    items.push(h('a', { href: r.href }, `${r.phase} ${r.chapterTitle} (line ${r.line})`));
  });
  return h('span.xref-item', [`${label} `, ...items, '.']);
}

/** The file line where `region` of `file` starts, or undefined if the file or markers cannot be read. */
export async function regionStart(bookRoot: string, file: string, region: string | undefined): Promise<number | undefined> {
  try {
    return regionLines(await readFile(path.join(bookRoot, file), 'utf8'), region)?.start;
  } catch {
    return undefined;
  }
}

async function renderInclude(block: IncludeBlock, book: Book): Promise<Element> {
  const file = block.target;
  const start = await regionStart(book.root, file, block.region);
  const pre = await highlight(block.value.replace(/\n$/, ''), block.lang, (line, { index }) => {
    if (start !== undefined) line.properties.dataLine = String(start + index - 1);
  });
  const caption: ElementContent[] = [
    h('span.block-kind', 'include'),
    { type: 'text', value: ' ' },
    h('a.block-name', { href: sourceHref(file, start) }, h('code', file)),
    ...(block.region ? [h('span.block-region', ` region ${block.region}`)] : []),
  ];
  return figure(block, caption, pre, []);
}
