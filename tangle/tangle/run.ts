// One tangle run as the CLI performs it: load, tangle, write (or check), with a timed line per
// step and every diagnostic on its own line. Returns the exit code instead of exiting, so tests
// can run it against a scratch book.
import { BookError, formatMessage } from '../diag/diagnostics.js';
import { analyseChapters } from '../parse/load-book.js';
import { staleFiles, writeTangled } from './write.js';

export interface RunOptions { check?: boolean; log?: (line: string) => void; error?: (line: string) => void }

export async function runTangle(root: string, options: RunOptions = {}): Promise<number> {
  const log = options.log ?? console.log;
  const error = options.error ?? console.error;
  const step = async <T>(describe: (result: T) => string, run: () => Promise<T> | T): Promise<T> => {
    const start = performance.now();
    const result = await run();
    log(`${describe(result)} … ${Math.round(performance.now() - start)} ms`);
    return result;
  };
  try {
    const { files } = await step((a) => `parse and tangle ${a.book.chapters.length} chapters into ${a.files.length} files`, () => analyseChapters(root));
    if (options.check) {
      const { written } = await step((r) => `check ${r.written.length} drifted, ${r.unchanged.length} unchanged`, () => writeTangled(root, files, { check: true }));
      for (const path of written) error(`drift: ${path} differs from its chapters; run npm run tangle`);
      return written.length > 0 ? 1 : 0;
    }
    const stale = await staleFiles(root, files); // read before the new map replaces the old one
    await step((r) => `write ${r.written.length} changed, ${r.unchanged.length} unchanged`, () => writeTangled(root, files));
    for (const path of stale) log(`stale: ${path} is no longer written by any chapter; delete it if nothing needs it`);
    return 0;
  } catch (caught) {
    if (!(caught instanceof BookError)) { error(`tangle: ${(caught as Error).message ?? String(caught)}`); return 1 }
    for (const message of caught.messages) error(formatMessage(message));
    error(`tangle: ${caught.messages.length} problem${caught.messages.length === 1 ? '' : 's'}; nothing was written`);
    return 1;
  }
}
