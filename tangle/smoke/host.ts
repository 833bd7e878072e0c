// Host-side actions of a smoke (chapter W.6): a free loopback port forwarded into the guest, and HTTP requests sent
// through it once the guest printed the line each action waits for. Each outcome becomes a `[host] …` transcript line.
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { HostAction } from '../parse/model.js';

/** A free TCP port on 127.0.0.1, found by letting the kernel pick one and closing it again. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface HttpReply {
  status: number;
  body: string;
  ms: number;
}

/** One GET over a fresh connection (no keep-alive), with a hard time limit. */
export function get(port: number, path: string, timeoutMs = 30_000): Promise<HttpReply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, headers: { Connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The p-th percentile (0–100) of sorted values, nearest rank. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `count` GETs of `prefix/<i>`, `concurrency` in flight; each answer must name its own request exactly once. */
export async function burst(port: number, prefix: string, count: number, concurrency: number): Promise<string[]> {
  const latencies: number[] = [];
  const seen = new Map<number, number>();
  let errors = 0,
    wrong = 0,
    next = 0;
  const first: string[] = [];
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      try {
        const r = await get(port, `${prefix}/${i}`);
        latencies.push(r.ms);
        const m = /\/(\d+)\n$/.exec(r.body);
        if (r.status !== 200 || !m || Number(m[1]) !== i) {
          wrong++;
          if (first.length < 3) first.push(`request ${i}: ${r.status} ${JSON.stringify(r.body)}`);
        } else seen.set(i, (seen.get(i) ?? 0) + 1);
      } catch (e) {
        errors++;
        if (first.length < 3) first.push(`request ${i}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const lost = count - seen.size - wrong - errors;
  const doubled = [...seen.values()].filter((n) => n > 1).length;
  return [
    `[host] burst ${prefix} finished`,
    `[host] burst ${prefix}: ${count} requests, ${concurrency} at a time: ${seen.size} answered correctly, ${errors} errors, ${wrong} wrong, ${lost} lost, ${doubled} doubled`,
    `[host] burst figures: ${(count / seconds).toFixed(1)} requests/s, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ${seconds.toFixed(1)} s`,
    ...first.map((f) => `[host] burst problem: ${f}`),
  ];
}

/** Runs one action against the forwarded port and returns its transcript lines. */
export async function runAction(action: HostAction, port: number): Promise<string[]> {
  if (action.kind === 'http') {
    try {
      const r = await get(port, action.path);
      return [`[host] GET ${action.path}: ${r.status} ${JSON.stringify(r.body)}`];
    } catch (e) {
      return [`[host] GET ${action.path}: failed: ${(e as Error).message}`];
    }
  }
  return burst(port, action.path, action.count, action.concurrency);
}

/**
 * Watches a boot's serial lines and starts each action once its `after` line appeared (each action once, in order of
 * appearance). Finished actions' lines are queued for the transcript; `pending` is what the boot has not taken yet.
 */
export class HostActions {
  readonly pending: string[] = [];
  /** set by the boot: called when lines were queued, so they join the transcript without waiting for more output */
  notify: () => void = () => {};
  private started = new Set<number>();
  private running: Promise<void>[] = [];
  constructor(
    private actions: HostAction[],
    private port: number,
  ) {}

  /** Called with every complete serial line. */
  onLine(line: string): void {
    this.actions.forEach((a, i) => {
      if (this.started.has(i) || line !== a.after) return;
      this.started.add(i);
      this.running.push(
        runAction(a, this.port).then((lines) => {
          this.pending.push(...lines);
          this.notify();
          // a later action may wait for a host line (`after "[host] burst /n finished"`)
          for (const l of lines) this.onLine(l);
        }),
      );
    });
  }

  /** Waits for every started action, including those started by other actions' lines. */
  async settle(): Promise<void> {
    let n = 0;
    while (n < this.running.length) {
      n = this.running.length;
      await Promise.all(this.running.slice(0, n));
    }
  }
}
