// The one chapter parser: remark (CommonMark + GFM + YAML front matter) and the book plugins.
// The loader and the site both build on this, so they can never disagree about a chapter.
import type { Root } from 'mdast';
import remarkFrontmatter from 'remark-frontmatter';
import remarkGfm from 'remark-gfm';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { VFile } from 'vfile';
import type { Chapter, ChapterMeta } from './model.js';
import remarkChapterMeta, { type ChapterMetaOptions } from './remark-chapter-meta.js';
import remarkCodeBlocks from './remark-code-blocks.js';
import remarkSmoke from './remark-smoke.js';
import './vfile-data.js';

export function chapterProcessor(options: { meta?: ChapterMetaOptions } = {}) {
  return unified()
    .use(remarkParse)
    .use(remarkFrontmatter, ['yaml'])
    .use(remarkGfm)
    .use(remarkChapterMeta, options.meta ?? {})
    .use(remarkCodeBlocks)
    .use(remarkSmoke);
}

/** Stand-in meta for a chapter whose front matter is invalid (its errors are reported separately). */
const INVALID_META: ChapterMeta = { phase: '', title: '', status: 'planned', description: '', topics: [], smokes: [] };

let processor: ReturnType<typeof chapterProcessor> | undefined; // frozen once, reused for every chapter

/** Parse one chapter. `path` is repository-relative (`chapters/11-w1-scaffold.md`). */
export async function parseChapter(path: string, source: string): Promise<{ chapter: Chapter; file: VFile; metaValid: boolean }> {
  const file = new VFile({ path, value: source });
  processor ??= chapterProcessor().freeze();
  const tree = (await processor.run(processor.parse(file), file)) as Root;
  const meta = file.data.chapterMeta;
  const chapter: Chapter = {
    path,
    meta: meta ?? INVALID_META,
    blocks: file.data.blocks ?? [],
    smokes: file.data.smokes ?? [],
    tree,
    source,
  };
  return { chapter, file, metaValid: meta !== undefined };
}
