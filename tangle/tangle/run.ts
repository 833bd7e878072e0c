// One tangle run as the CLI performs it: load, tangle, write (or check), with a timed line per
// step and every diagnostic on its own line. Returns the exit code instead of exiting, so tests
// can run it against a scratch book.
import { join } from 'node:path';
import { BookError, formatMessage } from '../diag/diagnostics.js';
import { analyseChapters } from '../parse/load-book.js';
import type { Book } from '../parse/model.js';
import { analyseState } from './states.js';
import { staleFiles, writeTangled } from './write.js';

export interface RunOptions {
  check?: boolean;
  /** tangle the state of the book as of this phase (tangle/tangle/states.ts) into `out` instead of the repository */
  upto?: string;
  /** where a state is written, repository-relative; default build/states/<phase> */
  out?: string;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

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
    const analysed = await step(
      (a) => `parse and tangle ${a.book.chapters.length} chapters into ${a.files.length} files`,
      () => analyseChapters(root),
    );
    if (options.upto !== undefined) return await writeState(root, analysed.book, options.upto, options.out ?? `build/states/${options.upto}`, step, error);
    const { files } = analysed;
    if (options.check) {
      const { written } = await step(
        (r) => `check ${r.written.length} drifted, ${r.unchanged.length} unchanged`,
        () => writeTangled(root, files, { check: true }),
      );
      for (const path of written) error(`drift: ${path} differs from its chapters; run npm run tangle`);
      return written.length > 0 ? 1 : 0;
    }
    const stale = await staleFiles(root, files); // read before the new map replaces the old one
    await step(
      (r) => `write ${r.written.length} changed, ${r.unchanged.length} unchanged`,
      () => writeTangled(root, files),
    );
    for (const path of stale) log(`stale: ${path} is no longer written by any chapter; delete it if nothing needs it`);
    return 0;
  } catch (caught) {
    if (!(caught instanceof BookError)) {
      error(`tangle: ${(caught as Error).message ?? String(caught)}`);
      return 1;
    }
    for (const message of caught.messages) error(formatMessage(message));
    error(`tangle: ${caught.messages.length} problem${caught.messages.length === 1 ? '' : 's'}; nothing was written`);
    return 1;
  }
}

type Step = <T>(describe: (result: T) => string, run: () => Promise<T> | T) => Promise<T>;

/** `--upto <phase>`: the chapter state, checked, written under `out` (with its own tangle map), never into the book. */
async function writeState(root: string, book: Book, phase: string, out: string, step: Step, error: (line: string) => void): Promise<number> {
  const state = await step(
    (s) => `state ${phase}: ${s.chapters.length} chapters, ${s.files.length} files`,
    () => analyseState(book, phase),
  );
  if (state.messages.length > 0) {
    for (const message of state.messages) error(formatMessage(message));
    error(`tangle: the state as of ${phase} has ${state.messages.length} problem${state.messages.length === 1 ? '' : 's'}; nothing was written`);
    return 1;
  }
  await step(
    (r) => `write ${r.written.length} changed, ${r.unchanged.length} unchanged under ${out}`,
    () => writeTangled(join(root, out), state.files),
  );
  return 0;
}
