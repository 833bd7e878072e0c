// One chapter → HTML and its heading list (for Starlight's table of contents). The tree is the tangler's own mdast
// (Chapter.tree); this module never parses Markdown itself.
import GithubSlugger from 'github-slugger';
import { toHtml } from 'hast-util-to-html';
import type { Heading, Root } from 'mdast';
import { toString as mdastToString } from 'mdast-util-to-string';
import { toHast } from 'mdast-util-to-hast';
import { unified } from 'unified';
import { visit } from 'unist-util-visit';
import type { Book, Chapter } from '../../tangle/index.js';
import { tokenStyleSheet } from './highlight.js';
import remarkBookBlocks from './remark-book-blocks.js';
import remarkSmokePanels from './remark-smoke-panels.js';
import type { SmokeView } from './results.js';
import type { Xref } from './xref.js';

export interface RenderedHeading {
  depth: number;
  slug: string;
  text: string;
}
export interface RenderedChapter {
  html: string;
  headings: RenderedHeading[];
  lead?: string;
}

export async function renderChapter(book: Book, chapter: Chapter, xref: Xref, views: Map<string, SmokeView>): Promise<RenderedChapter> {
  const tree = structuredClone(chapter.tree) as Root;
  tree.children = tree.children.filter((n) => n.type !== 'yaml');
  // The page title comes from the front matter; a leading `# …` becomes the chapter's subtitle.
  let lead: string | undefined;
  const first = tree.children[0];
  if (first?.type === 'heading' && first.depth === 1) {
    const heading = mdastToString(first);
    if (heading.trim() !== chapter.meta.title.trim()) lead = heading;
    tree.children.shift();
  }
  const headings = headingIds(tree);
  const processor = unified().use(remarkBookBlocks, { book, chapter, xref }).use(remarkSmokePanels, { chapter, views });
  const out = (await processor.run(tree)) as Root;
  const hast = toHast(out, { allowDangerousHtml: true });
  const styles = tokenStyleSheet(hast);
  if (styles && hast.type === 'root') hast.children.unshift(styles);
  return { html: toHtml(hast, { allowDangerousHtml: true }), headings, lead };
}

/** Gives every heading a GitHub-style id (what Starlight's TOC links to) and returns the list. */
export function headingIds(tree: Root): RenderedHeading[] {
  const slugger = new GithubSlugger();
  const headings: RenderedHeading[] = [];
  visit(tree, 'heading', (node: Heading) => {
    const text = mdastToString(node);
    const slug = slugger.slug(text);
    node.data = { ...node.data, hProperties: { ...(node.data?.hProperties ?? {}), id: slug } };
    headings.push({ depth: node.depth, slug, text });
  });
  return headings;
}
