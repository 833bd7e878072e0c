// Host-side actions of a smoke (chapter W.6): a free loopback port forwarded into the guest, and HTTP requests sent
// through it once the guest printed the line each action waits for. Each outcome becomes a `[host] …` transcript line.
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import type { HostAction } from '../parse/model.js';
import type { Wire } from './wire.js';

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

/** The runner's UDP port on the wire (chapter 19a): the guest sees the datagrams come from 10.0.2.2 at this port. */
export const WIRE_PORT = 40000;

/**
 * Sends each datagram in turn over the wire to the guest's UDP `guestPort` from the runner's port `from`, waiting up to
 * `timeoutMs` for the guest's answer to that port before the next; one `[host] udp PORT: sent "…", got "…"` line each
 * (`udp PORT from P:` when `from` is not the runner's usual port).
 */
export async function udpExchange(wire: Wire, guestPort: number, datagrams: string[], timeoutMs = 10_000, from = WIRE_PORT): Promise<string[]> {
  const lines: string[] = [];
  const name = from === WIRE_PORT ? `${guestPort}` : `${guestPort} from ${from}`;
  for (const d of datagrams) {
    const answer = wire.next(guestPort, from, timeoutMs);
    wire.send(from, guestPort, Buffer.from(d, 'utf8'));
    const got = await answer;
    const what = got === undefined ? `nothing within ${timeoutMs} ms` : JSON.stringify(got.toString('utf8'));
    lines.push(`[host] udp ${name}: sent ${JSON.stringify(d)}, got ${what}`);
  }
  return lines;
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

/** How long a reset action holds its half-sent request before resetting: time for the guest to accept and read it. */
export const RESET_HOLD_MS = 2000;

/**
 * Connects, sends the first line of a GET of `path` without the blank line that would end its head (so the guest reads
 * it and waits for more), holds the connection `holdMs`, then resets it: `resetAndDestroy` closes with SO_LINGER 0, so
 * the host kernel answers with RST instead of FIN, and QEMU's user network passes the reset on to the guest.
 */
export function reset(port: number, path: string, holdMs = RESET_HOLD_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const head = `GET ${path} HTTP/1.1\r\nHost: capos\r\n`;
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write(head, () =>
        setTimeout(() => {
          s.resetAndDestroy();
          resolve(`sent ${Buffer.byteLength(head)} bytes, then RST`);
        }, holdMs),
      );
    });
    s.on('error', reject);
  });
}

/** Runs one action against the forwarded port (`udp`: over the wire) and returns its transcript lines. */
export async function runAction(action: HostAction, port: number, wire?: Wire): Promise<string[]> {
  if (action.kind === 'udp') {
    if (wire === undefined) return [`[host] udp ${action.port}: failed: the smoke has no wire`];
    return udpExchange(wire, action.port, action.datagrams, 10_000, action.from);
  }
  if (action.kind === 'http') {
    try {
      const r = await get(port, action.path);
      return [`[host] GET ${action.path}: ${r.status} ${JSON.stringify(r.body)}`];
    } catch (e) {
      return [`[host] GET ${action.path}: failed: ${(e as Error).message}`];
    }
  }
  if (action.kind === 'reset') {
    try {
      return [`[host] reset ${action.path}: ${await reset(port, action.path)}`];
    } catch (e) {
      return [`[host] reset ${action.path}: failed: ${(e as Error).message}`];
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
    private wire?: Wire,
  ) {}

  /** Called with every complete serial line. */
  onLine(line: string): void {
    this.actions.forEach((a, i) => {
      if (this.started.has(i) || line !== a.after) return;
      this.started.add(i);
      this.running.push(
        runAction(a, this.port, this.wire).then((lines) => {
          this.pending.push(...lines);
          this.notify();
          // a later action may wait for a host line (`after "[host] burst /n finished"`)
          for (const l of lines) this.onLine(l);
        }),
      );
    });
  }

  /** Queues lines that happened on the host outside an action (an origin's served requests); a later action may
   * wait for one of them. */
  record(lines: string[]): void {
    this.pending.push(...lines);
    this.notify();
    for (const l of lines) this.onLine(l);
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
