// Everything the site shows, computed once per build from the book (through the tangler's own loadBook and
// tangleBook), the phase list and the smoke results. A malformed results file makes this throw, naming the file,
// which fails the build.
import { analyseChapters, builtImageBytes, type Book, type TangledFile, type SmokeResult } from '../../tangle/index.js';
import { siteInputs, type SiteInputs } from './config.js';
import { loadPhases, phaseBoard, type BoardRow, type Phase } from './phases.js';
import { loadResults, smokeViews, type SmokeView } from './results.js';
import { buildXref, type Xref } from './xref.js';

export interface SiteData {
  inputs: SiteInputs;
  book: Book;
  tangled: TangledFile[];
  xref: Xref;
  results: Map<string, SmokeResult>;
  views: Map<string, SmokeView>;
  phases: Phase[];
  board: BoardRow[];
}

let cached: { key: string; data: Promise<SiteData> } | undefined;

export function siteData(inputs: SiteInputs = siteInputs()): Promise<SiteData> {
  const key = JSON.stringify(inputs);
  if (!cached || cached.key !== key) cached = { key, data: compute(inputs) };
  return cached.data;
}

async function compute(inputs: SiteInputs): Promise<SiteData> {
  const { book, files: tangled } = await analyseChapters(inputs.bookRoot);
  const [results, phases] = await Promise.all([loadResults(inputs.resultsDir), loadPhases(inputs.bookRoot)]);
  const views = smokeViews(
    book,
    tangled,
    results,
    phases.flatMap((p) => p.smokes),
    (spec) => builtImageBytes(inputs.bookRoot, spec),
  );
  return { inputs, book, tangled, xref: buildXref(book), results, views, phases, board: phaseBoard(phases, book, views) };
}
