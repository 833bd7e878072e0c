// The dev server's side of `npm run watch` (tangle/cli/watch.ts). Added by astro.config.mjs only when WATCH_STATUS
// names the watch's status file, so a production build has none of it. It serves that file at /__watch/status,
// puts a banner script on every page, and when a cycle ends with the book tangled, reloads the content collections
// (the loaders read the chapters and results again), after which the open pages reload themselves.
import { mkdirSync, watch } from 'node:fs';
import path from 'node:path';
import type { AstroIntegration } from 'astro';
import { readStatus } from '../../tangle/watch/status.js';

export const STATUS_ROUTE = '/__watch/status';

/** Runs in the page: polls the status and shows it in a fixed banner (textContent only, never markup from the file). */
function banner(route: string): void {
  let shown = -1;
  let loadedWith: number | undefined;
  const el = document.createElement('div');
  el.id = 'watch-banner';
  el.setAttribute('role', 'status');
  el.style.cssText =
    'position:fixed;left:0;right:0;bottom:0;z-index:1000;padding:.5rem 1rem;font:13px/1.4 ui-monospace,monospace;' +
    'white-space:pre-wrap;max-height:40vh;overflow:auto;display:none';
  const colours: Record<string, string> = { running: '#1d4ed8', passed: '#15803d', failed: '#b91c1c' };
  const tick = async (): Promise<void> => {
    try {
      const res = await fetch(route, { cache: 'no-store' });
      const s = (await res.json()) as {
        generation?: number;
        state?: string;
        summary?: string;
        problems?: { where: string; message: string }[];
        smokes?: { name: string; where: string; ok: boolean; failures: string[] }[];
        reloaded?: number;
      };
      // the content this page was rendered from is older than the dev server's: show the new one
      if (loadedWith === undefined) loadedWith = s.reloaded ?? 0;
      else if ((s.reloaded ?? 0) > loadedWith) {
        location.reload();
        return;
      }
      if (typeof s.generation !== 'number' || s.generation === shown) return;
      shown = s.generation;
      const lines = [`watch: ${s.state ?? '?'}: ${s.summary ?? ''}`];
      for (const p of s.problems ?? []) lines.push(`${p.where}: ${p.message}`);
      for (const x of (s.smokes ?? []).filter((m) => !m.ok)) lines.push(`${x.name} (${x.where}):`, ...x.failures);
      el.textContent = lines.join('\n');
      el.dataset.state = s.state ?? '';
      el.style.background = colours[s.state ?? ''] ?? '#374151';
      el.style.color = '#fff';
      el.style.display = 'block';
      if (!el.isConnected) document.body.append(el);
    } catch {
      // the dev server is restarting: try again at the next tick
    }
  };
  void tick();
  setInterval(() => void tick(), 1000);
}

export function watchBanner(statusFile: string): AstroIntegration {
  return {
    name: 'book-watch-banner',
    hooks: {
      'astro:config:setup': ({ command, injectScript }) => {
        if (command === 'dev') injectScript('page', `(${banner.toString()})(${JSON.stringify(STATUS_ROUTE)});`);
      },
      'astro:server:setup': ({ server, refreshContent, logger }) => {
        // the cycle the dev server started with is what its first load already shows
        let refreshed = Number.POSITIVE_INFINITY;
        // the newest cycle a reload was started for (a save shows up as more than one file event)
        let asked = Number.POSITIVE_INFINITY;
        void readStatus(statusFile).then(
          (s) => {
            refreshed = asked = s?.generation ?? 0;
          },
          () => {
            refreshed = asked = 0;
          },
        );
        // the status, and which cycle's content the server now renders (pages reload when that moves on)
        server.middlewares.use(STATUS_ROUTE, (_req, res) => {
          readStatus(statusFile)
            .catch(() => undefined)
            .then((s) => {
              res.setHeader('content-type', 'application/json');
              res.setHeader('cache-control', 'no-store');
              res.end(JSON.stringify({ ...s, reloaded: Number.isFinite(refreshed) ? refreshed : 0 }));
            });
        });
        const onStatus = async (): Promise<void> => {
          const s = await readStatus(statusFile).catch(() => undefined);
          // a cycle that stopped at the tangle step left the book broken: keep showing the last good one
          if (!s || s.state === 'running' || s.step === 'tangle' || s.generation <= asked) return;
          asked = s.generation;
          await refreshContent?.({ context: { watchGeneration: s.generation } });
          refreshed = Math.max(refreshed, s.generation);
          logger.info(`watch cycle ${s.generation}: content reloaded`);
        };
        // the directory, not the file: the status is replaced by a rename, which ends a watch on the old file
        const dir = path.dirname(statusFile);
        mkdirSync(dir, { recursive: true });
        const watcher = watch(dir, (_e, name) => {
          if (name === path.basename(statusFile)) void onStatus();
        });
        server.httpServer?.on('close', () => watcher.close());
      },
    },
  };
}
