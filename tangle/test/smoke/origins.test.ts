import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { describe, expect, test } from 'vitest';
import { guestfwdOptions, HUGE_BYTES, Origins, originLine, RELAY } from '../../smoke/origins.js';
import { netArgs } from '../../smoke/qemu.js';

/** One request straight to a loopback port; answers status and body. */
function ask(port: number, method: string, path: string, body = ''): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve([res.statusCode ?? 0, text]));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What QEMU's guestfwd does for one connection: run the relay with the connection on its stdin and stdout. */
function throughRelay(hostPort: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [RELAY, String(hostPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
    child.stdin.end(raw);
  });
}

describe('origins', () => {
  test('one server per address: pages, 404s and echoed bodies, each request reported as a [host] origin line', async () => {
    const lines: string[] = [];
    const page = (body: string) => ({ kind: 'page' as const, body });
    const routes = [
      { line: 1, addr: '10.0.2.100', port: 80, path: '/a', answer: page('page a\n') },
      { line: 2, addr: '10.0.2.100', port: 80, path: '/b', answer: page('page b\n') },
      { line: 3, addr: '10.0.2.101', port: 8080, path: '/a', answer: page('other a\n') },
    ];
    const o = await Origins.start(routes, (l) => lines.push(l));
    try {
      expect(o.forwards.map((f) => [f.addr, f.port])).toEqual([
        ['10.0.2.100', 80],
        ['10.0.2.101', 8080],
      ]);
      const [first, second] = o.forwards.map((f) => f.hostPort) as [number, number];
      expect(await ask(first, 'GET', '/a')).toEqual([200, 'page a\n']);
      expect(await ask(second, 'GET', '/a')).toEqual([200, 'other a\n']);
      expect(await ask(first, 'GET', '/c')).toEqual([404, 'no page /c here\n']);
      expect(await ask(first, 'POST', '/b', 'xyz')).toEqual([200, 'received 3 bytes: xyz']);
      expect(await ask(first, 'HEAD', '/b')).toEqual([200, '']);
      expect(lines).toEqual([
        originLine('10.0.2.100', 80, 'GET', '/a', 200, 0),
        '[host] origin 10.0.2.101:8080: GET /a -> 200',
        '[host] origin 10.0.2.100:80: GET /c -> 404',
        '[host] origin 10.0.2.100:80: POST /b -> 200 (3 bytes in)',
        '[host] origin 10.0.2.100:80: HEAD /b -> 200',
      ]);
      // The relay is the path a guest's connection takes: raw bytes in, the server's raw answer out.
      const answer = await throughRelay(first, 'GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(answer.endsWith('\r\n\r\npage b\n')).toBe(true);
    } finally {
      await o.stop();
    }
  });

  test('a misbehaving origin: bytes that are not HTTP, a reset, silence, a page over 16 KiB', async () => {
    const lines: string[] = [];
    const at = (path: string, kind: 'garbage' | 'reset' | 'silent' | 'huge') => ({ line: 1, addr: '10.0.2.104', port: 80, path, answer: { kind } });
    const o = await Origins.start([at('/g', 'garbage'), at('/r', 'reset'), at('/s', 'silent'), at('/h', 'huge')], (l) => lines.push(l));
    const port = o.forwards[0]!.hostPort;
    const raw = (path: string) => throughRelay(port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    try {
      expect(await raw('/g')).toBe('SSH-2.0-not-an-http-server\r\n\r\n');
      expect(await raw('/r')).toBe('');
      const huge = await raw('/h');
      expect(huge).toContain(`Content-Length: ${HUGE_BYTES}\r\n`);
      expect(huge.endsWith('x'.repeat(HUGE_BYTES))).toBe(true);
      // Silence: the request arrives and is reported, and nothing comes back within half a second.
      const silent = request({ host: '127.0.0.1', port, path: '/s', agent: false });
      let answered = false;
      silent.on('response', () => {
        answered = true;
      });
      silent.on('error', () => {});
      silent.end();
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(false);
      silent.destroy();
      expect(lines).toEqual([
        '[host] origin 10.0.2.104:80: GET /g -> garbage',
        '[host] origin 10.0.2.104:80: GET /r -> reset',
        '[host] origin 10.0.2.104:80: GET /h -> 200',
        '[host] origin 10.0.2.104:80: GET /s -> silent',
      ]);
    } finally {
      await o.stop();
    }
  });

  test('each forward becomes a guestfwd running the relay, after the hostfwd of net=user', () => {
    const forwards = [
      { addr: '10.0.2.100', port: 80, hostPort: 4001 },
      { addr: '10.0.2.101', port: 8080, hostPort: 4002 },
    ];
    expect(guestfwdOptions(forwards)).toBe(`,guestfwd=tcp:10.0.2.100:80-cmd:node ${RELAY} 4001,guestfwd=tcp:10.0.2.101:8080-cmd:node ${RELAY} 4002`);
    expect(netArgs({ hostPort: 5555, forwards })[1]).toBe(`user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:5555-:80${guestfwdOptions(forwards)}`);
    // QEMU splits options at commas: the relay's path must not contain one.
    expect(RELAY).not.toContain(',');
  });
});
