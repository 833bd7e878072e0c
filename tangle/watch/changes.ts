// Which chapters changed, and when to start a cycle: saves under chapters/ are gathered for a short quiet time
// (editors write a file in several steps), and saves that arrive while a cycle runs start one more cycle after it,
// for all of them at once. Cycles never overlap.
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

/** How long to wait after the last save before starting a cycle. */
export const QUIET_MS = 250;

/** The book's sources under chapters/: the chapters and the phase list. */
export function isBookSource(name: string): boolean {
  return name.endsWith('.md') || name === 'phases.yaml';
}

/** Serialises `run`: changes added while it runs are kept and given to the next run, all together. A run that
 * throws is reported to `broke` and the queue goes on. */
export function serialise(run: (changed: string[]) => Promise<void>, broke: (e: unknown) => void, quietMs = QUIET_MS): (path: string) => void {
  const pending = new Set<string>();
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const drain = async (): Promise<void> => {
    running = true;
    while (pending.size > 0) {
      const batch = [...pending].sort();
      pending.clear();
      await run(batch).catch(broke);
    }
    running = false;
  };
  return (path: string) => {
    pending.add(path);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (!running) void drain();
    }, quietMs);
  };
}

/** Watches chapters/ and calls `changed` with each saved source's repo-relative path. */
export function watchChapters(root: string, changed: (path: string) => void): FSWatcher {
  return watch(join(root, 'chapters'), (_event, name) => {
    if (name && isBookSource(name)) changed(`chapters/${name}`);
  });
}
