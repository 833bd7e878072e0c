// `npm run lint-manifests [-- --strict]`: the least-authority hints of appendix A.10, from results/smoke/*.json.
// Hints are not verdicts (one run is one run), so it exits 0 unless --strict; unreadable results are an error.
import path from 'node:path';
import { readJsonDir } from '../../site/lib/json-dir.js';
import { formatHint, unusedGrants } from '../lint/manifests.js';
import { validateSmokeResult, type SmokeResult } from '../smoke/result.js';
import { repoRoot } from './root.js';

async function main(): Promise<number> {
  const strict = process.argv.includes('--strict');
  const files = await readJsonDir(path.join(repoRoot(), 'results/smoke'), 'smoke result');
  const results: SmokeResult[] = files.map((f) => validateSmokeResult(f.json, f.file));
  const hints = unusedGrants(results);
  for (const hint of hints) console.log(formatHint(hint));
  const withLedger = results.filter((r) => r.ledger !== undefined).length;
  const instances = results.reduce((n, r) => n + (r.ledger?.length ?? 0), 0);
  const grants = hints.reduce((n, h) => n + h.caps.length, 0);
  console.log(
    `lint-manifests: ${grants} unused grant${grants === 1 ? '' : 's'} in ${hints.length} of ${instances} instance ledgers, from ${withLedger} smoke results` +
      (withLedger < results.length ? ` (${results.length - withLedger} results predate the ledger: run those smokes again)` : ''),
  );
  return strict && hints.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`lint-manifests: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
