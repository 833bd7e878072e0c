// Everything the site shows, computed once per build from the book (through the tangler's own loadBook and
// tangleBook), the phase list and the smoke results. A malformed results file makes this throw, naming the file,
// which fails the build.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
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

/** When and how big each chapter and result file is: a save or a new result makes a new key (the dev server of
 * `npm run watch` reloads its content after a cycle; a build sees one key throughout). */
function fingerprint(inputs: SiteInputs): string {
  const parts: string[] = [];
  for (const dir of [path.join(inputs.bookRoot, 'chapters'), inputs.resultsDir]) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const st = statSync(path.join(dir, name), { throwIfNoEntry: false });
      if (st?.isFile()) parts.push(`${name}:${st.mtimeMs}:${st.size}`);
    }
  }
  return parts.join('|');
}

export function siteData(inputs: SiteInputs = siteInputs()): Promise<SiteData> {
  const key = JSON.stringify(inputs) + fingerprint(inputs);
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
