// Origins for a smoke (chapter W.6, `origin:` directives): one HTTP server on 127.0.0.1 per guest-visible address,
// reached from the guest through QEMU's guestfwd, which runs origin-relay.mjs for each connection. Every request
// an origin answers is reported as a `[host] origin …` line, so a smoke asserts what reached the host.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { OriginAnswer, OriginRoute } from '../parse/model.js';

export const RELAY = fileURLToPath(new URL('./origin-relay.mjs', import.meta.url));
/** The size of a `huge` page: more than the 16 KiB one message of the HTTP service carries. */
export const HUGE_BYTES = 20_000;

/** One guest-visible address and the loopback port its server listens on. */
export interface Forward {
  addr: string;
  port: number;
  hostPort: number;
}

/** The text of one served request, as it joins the transcript. */
export function originLine(addr: string, port: number, method: string, path: string, status: number, bodyBytes: number): string {
  return `[host] origin ${addr}:${port}: ${method} ${path} -> ${status}${bodyBytes > 0 ? ` (${bodyBytes} bytes in)` : ''}`;
}

export class Origins {
  readonly forwards: Forward[] = [];
  private servers: Server[] = [];

  private constructor(private report: (line: string) => void) {}

  /** Starts a server per distinct address of `routes`; `report` receives each `[host] origin …` line. */
  static async start(routes: OriginRoute[], report: (line: string) => void): Promise<Origins> {
    const o = new Origins(report);
    const keys = [...new Set(routes.map((r) => `${r.addr}:${r.port}`))];
    for (const key of keys) {
      const [addr, port] = [key.split(':')[0]!, Number(key.split(':')[1])];
      const pages = new Map(routes.filter((r) => r.addr === addr && r.port === port).map((r) => [r.path, r.answer]));
      o.forwards.push({ addr, port, hostPort: await o.serve(addr, port, pages) });
    }
    return o;
  }

  /** GET and HEAD answer a page (404 for another path), or misbehave as the path's line says; POST and PUT answer
   * what they received. */
  private serve(addr: string, port: number, pages: Map<string, OriginAnswer>): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? '/';
        const method = req.method ?? 'GET';
        const page = pages.get(path);
        if ((method === 'GET' || method === 'HEAD') && page && page.kind !== 'page' && page.kind !== 'huge') {
          this.report(`[host] origin ${addr}:${port}: ${method} ${path} -> ${page.kind}`);
          if (page.kind === 'garbage') req.socket.end('SSH-2.0-not-an-http-server\r\n\r\n');
          else if (page.kind === 'reset') req.socket.resetAndDestroy();
          // silent: nothing is sent. Once the client gives up and ends its side, the origin ends its own, as a TCP peer
          // does; a peer that never closes at all is the stack's known limit (chapter 19b), not what this tests.
          else req.socket.on('end', () => req.socket.end());
          return;
        }
        let status = 200,
          answer: string;
        if (method === 'POST' || method === 'PUT') answer = `received ${body.length} bytes: ${body.toString('utf8')}`;
        else if (page?.kind === 'page') answer = page.body;
        else if (page?.kind === 'huge') answer = 'x'.repeat(HUGE_BYTES);
        else {
          status = 404;
          answer = `no page ${path} here\n`;
        }
        const bytes = Buffer.from(answer, 'utf8');
        res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': bytes.length, Connection: 'close' });
        res.end(method === 'HEAD' ? undefined : bytes);
        this.report(originLine(addr, port, method, path, status, body.length));
      });
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      });
    });
  }

  async stop(): Promise<void> {
    // Connections the guest left open would keep close() waiting: end them first.
    for (const s of this.servers) s.closeAllConnections();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** QEMU's `guestfwd` options for `forwards` (user network, `restrict=on` lets these through). */
export function guestfwdOptions(forwards: Forward[]): string {
  return forwards.map((f) => `,guestfwd=tcp:${f.addr}:${f.port}-cmd:node ${RELAY} ${f.hostPort}`).join('');
}
