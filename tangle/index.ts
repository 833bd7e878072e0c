// The tangler's public API: what the CLI, the build/smoke runner and the site import.
export type * from './parse/model.js';
export { analyseChapters, loadBook, type AnalysedBook } from './parse/load-book.js';
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
export { regionLines } from './parse/includes.js';
export type { Reference } from './tangle/references.js';
export {
  allAssertions,
  changedInputs,
  computeInputs,
  hashInputs,
  validateSmokeResult,
  type AssertionResult,
  type BootRecord,
  type SmokeInputs,
  type SmokeResult,
} from './smoke/result.js';
export { smokeDependencies } from './smoke/inputs.js';
export { parseLedger, ledgerOfBoots, type LedgerCall, type LedgerOutcome, type LedgerRecord } from './smoke/ledger.js';
export { builtImageBytes } from './smoke/runner.js';
export { TangleMap, loadTangleMap } from './diag/remap.js';
export {
  hashInput,
  REPORT_KINDS,
  REPORTS_DIR,
  showCell,
  validateReport,
  ReportError,
  type Cell,
  type InputHash,
  type Report,
  type ReportChart,
  type ReportKind,
  type ReportTable,
} from './bench/report.js';
