// What the chapter plugins leave on `file.data`, typed for every consumer (loader and site).
import type { Block, ChapterMeta, SmokeSpec } from './model.js';

declare module 'vfile' {
  interface DataMap {
    /** Set by remark-chapter-meta when the front matter is valid. */
    chapterMeta: ChapterMeta;
    /** Set by remark-code-blocks: every fenced or indented code block, in document order. */
    blocks: Block[];
    /** Set by remark-smoke: every valid smoke block of the chapter. */
    smokes: SmokeSpec[];
  }
}
