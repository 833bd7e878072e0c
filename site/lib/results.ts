// Smoke results as the site shows them. A result only counts as passing when it is ok AND was produced from the
// chapters as they are now (same smoke block, same tangled files); otherwise it is stale, failing or missing.
import { readJsonDir } from './json-dir.js';
import {
  allAssertions,
  changedInputs,
  computeInputs,
  validateSmokeResult,
  type Book,
  type SmokeSpec,
  type TangledFile,
  type SmokeResult,
} from '../../tangle/index.js';

export type SmokeState = 'pass' | 'fail' | 'stale' | 'missing';

/** How a state reads on the page (badges, the phase board, a chapter's standing). */
export const STATE_LABEL: Record<SmokeState, string> = { pass: 'passing', fail: 'failing', stale: 'stale', missing: 'missing' };

export interface SmokeView {
  name: string;
  state: SmokeState;
  /** Why the state is what it is, in a sentence a reader understands. */
  reason: string;
  spec?: SmokeSpec;
  result?: SmokeResult;
}

/** Reads every *.json in `dir`. A file that does not parse or validate throws an error naming it. */
export async function loadResults(dir: string): Promise<Map<string, SmokeResult>> {
  const results = new Map<string, SmokeResult>();
  for (const { name, file, json } of await readJsonDir(dir, 'smoke result')) {
    let result: SmokeResult;
    try {
      result = validateSmokeResult(json, file);
    } catch (e) {
      throw new Error(`malformed smoke result ${(e as Error).message}`);
    }
    if (`${result.name}.json` !== name) {
      throw new Error(`malformed smoke result ${file}: name ${JSON.stringify(result.name)} does not match the file name`);
    }
    results.set(result.name, result);
  }
  return results;
}

/** Decides the state of every smoke the book defines (and of `extra` names that no chapter defines yet). */
export function smokeViews(
  book: Book,
  tangled: TangledFile[],
  results: Map<string, SmokeResult>,
  extra: string[] = [],
  /** The bytes a smoke boots (kernel + manifest.bin), when they exist; a result made from other bytes is stale. */
  imageOf: (spec: SmokeSpec) => Uint8Array | undefined = () => undefined,
): Map<string, SmokeView> {
  const views = new Map<string, SmokeView>();
  for (const chapter of book.chapters) {
    for (const spec of chapter.smokes) views.set(spec.name, viewOf(spec, results.get(spec.name), tangled, imageOf(spec)));
  }
  for (const name of extra) {
    if (!views.has(name)) views.set(name, { name, state: 'missing', reason: 'no chapter defines this smoke yet' });
  }
  return views;
}

function viewOf(spec: SmokeSpec, result: SmokeResult | undefined, tangled: TangledFile[], image?: Uint8Array): SmokeView {
  const name = spec.name;
  if (!result) return { name, spec, state: 'missing', reason: 'no result: this smoke has not been run' };
  const changed = changedInputs(result.inputs, computeInputs(tangled, spec, image));
  if (changed.length > 0) {
    return { name, spec, result, state: 'stale', reason: `${changed.join(' and ')} changed since this run` };
  }
  if (!result.ok) {
    const failed = allAssertions(result).filter((a) => !a.ok).length;
    return { name, spec, result, state: 'fail', reason: `${failed} of ${allAssertions(result).length} assertions failed` };
  }
  return { name, spec, result, state: 'pass', reason: `all ${allAssertions(result).length} assertions passed` };
}
