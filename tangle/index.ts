// The tangler's public API: what the CLI, the build/smoke runner and the site import.
export type * from './parse/model.js';
export { loadBook } from './parse/load-book.js';
export { chapterProcessor, parseChapter } from './parse/processor.js';
export { default as remarkChapterMeta, type ChapterMetaOptions, STATUSES, PHASE } from './parse/remark-chapter-meta.js';
export { default as remarkCodeBlocks } from './parse/remark-code-blocks.js';
export { default as remarkSmoke } from './parse/remark-smoke.js';
export { parseInfoAttributes } from './parse/info-string.js';
export { parseSmoke } from './parse/smoke-spec.js';
export { TANGLED_ROOTS } from './parse/paths.js';
export { tangleBook, analyzeBook } from './tangle/tangle-book.js';
export { parseReference } from './tangle/references.js';
export { writeTangled, staleFiles, mapJson, MAP_PATH, WriteError, type WriteResult } from './tangle/write.js';
export { BookError, Diagnostics, formatMessage } from './diag/diagnostics.js';
export { runTangle, type RunOptions } from './tangle/run.js';
export { phaseChapters, phaseSmokes, stampChapter } from './parse/phases.js';
