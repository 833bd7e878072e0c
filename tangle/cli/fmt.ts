// `npm run fmt [-- --check]` (`make fmt-check` is the check): cargo fmt on capos/, rustfmt on the tangled Rust through
// the chapters, Biome on the TypeScript (tangle/check/fmt.ts).
import { runFmt } from '../check/fmt.js';
import { BookError, formatMessage } from '../diag/diagnostics.js';
import { repoRoot } from './root.js';

try {
  process.exitCode = await runFmt(repoRoot(), { check: process.argv.includes('--check') });
} catch (caught) {
  if (!(caught instanceof BookError)) throw caught;
  for (const message of caught.messages) console.error(formatMessage(message));
  console.error('fmt: the book has problems (above); fix them first');
  process.exitCode = 1;
}
