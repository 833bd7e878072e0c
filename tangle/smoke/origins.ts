// Origins for a smoke (chapter W.6, `origin:` directives): one HTTP server on 127.0.0.1 per guest-visible address,
// reached from the guest through QEMU's guestfwd, which runs origin-relay.mjs for each connection. Every request
// an origin answers is reported as a `[host] origin …` line, so a smoke asserts what reached the host.
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { OriginRoute } from '../parse/model.js';

export const RELAY = fileURLToPath(new URL('./origin-relay.mjs', import.meta.url));

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
      const pages = new Map(routes.filter((r) => r.addr === addr && r.port === port).map((r) => [r.path, r.body]));
      o.forwards.push({ addr, port, hostPort: await o.serve(addr, port, pages) });
    }
    return o;
  }

  /** GET and HEAD answer a page (404 for another path); POST and PUT answer what they received. */
  private serve(addr: string, port: number, pages: Map<string, string>): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? '/';
        const method = req.method ?? 'GET';
        let status = 200,
          answer: string;
        if (method === 'POST' || method === 'PUT') answer = `received ${body.length} bytes: ${body.toString('utf8')}`;
        else if (pages.has(path)) answer = pages.get(path)!;
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
