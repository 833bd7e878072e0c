import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { burst, freePort, percentile, reset, runAction } from '../../smoke/host.js';
import { netArgs, qemuEnv } from '../../smoke/qemu.js';

/** A local HTTP server answering `/n/<i>` with a body ending in `/<i>`, or a fixed wrong body for `/bad/…`. */
async function server(): Promise<{ port: number; close: () => Promise<void> }> {
  const s = createServer((req, res) => {
    res.setHeader('Connection', 'close');
    res.end(req.url?.startsWith('/bad/') ? 'hello from /0\n' : `hello from ${req.url}\n`);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
  return { port, close: () => new Promise((resolve) => s.close(() => resolve())) };
}

describe('host actions', () => {
  test('percentile is nearest-rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 99), percentile(v, 100), percentile([], 50)]).toEqual([50, 99, 100, 0]);
  });

  test('a burst counts every answer against its own request; wrong answers and a dead port are counted, not hidden', async () => {
    const s = await server();
    try {
      const ok = await burst(s.port, '/n', 40, 8);
      expect(ok[0]).toBe('[host] burst /n finished');
      ok.shift();
      expect(ok[0]).toBe('[host] burst /n: 40 requests, 8 at a time: 40 answered correctly, 0 errors, 0 wrong, 0 lost, 0 doubled');
      expect(ok[1]).toMatch(/^\[host\] burst figures: [\d.]+ requests\/s, p50 [\d.]+ ms, p99 [\d.]+ ms, [\d.]+ s$/);
      const bad = await burst(s.port, '/bad', 4, 2);
      expect(bad[1]).toBe('[host] burst /bad: 4 requests, 2 at a time: 1 answered correctly, 0 errors, 3 wrong, 0 lost, 0 doubled');
      expect(await runAction({ kind: 'http', line: 1, after: 'x', path: '/hi' }, s.port)).toEqual(['[host] GET /hi: 200 "hello from /hi\\n"']);
    } finally {
      await s.close();
    }
    const dead = await runAction({ kind: 'http', line: 1, after: 'x', path: '/' }, s.port);
    expect(dead[0]).toMatch(/^\[host\] GET \/: failed: .*ECONNREFUSED/);
  });

  test('a reset action sends half a request head, then RST: the peer reads the bytes and then sees ECONNRESET', async () => {
    const seen: { data: string; error?: string } = { data: '' };
    let closed!: () => void;
    const ended = new Promise<void>((resolve) => {
      closed = resolve;
    });
    const s = createTcpServer((sock: Socket) => {
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        seen.data += d;
      });
      sock.on('error', (e: NodeJS.ErrnoException) => {
        seen.error = e.code;
      });
      sock.on('close', () => closed());
    });
    const port = await freePort();
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    try {
      expect(await reset(port, '/r', 50)).toBe('sent 30 bytes, then RST');
      await ended;
      expect(seen).toEqual({ data: 'GET /r HTTP/1.1\r\nHost: capos\r\n', error: 'ECONNRESET' });
    } finally {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    const dead = await runAction({ kind: 'reset', line: 1, after: 'x', path: '/r' }, port);
    expect(dead[0]).toMatch(/^\[host\] reset \/r: failed: .*ECONNREFUSED/);
  });

  test('net=user is restricted user networking with one loopback forward to port 80', () => {
    expect(netArgs({ hostPort: 5555 })).toEqual([
      '-netdev',
      'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:5555-:80',
      '-device',
      'virtio-net-pci,netdev=net0',
    ]);
    expect(netArgs(undefined)).toEqual([]);
  });

  test('a boot with a forwarded port preloads the listen-backlog shim, and refuses to start without it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'capos-shim-test-'));
    const image = { kernel: 'k', initrd: 'i', net: { hostPort: 5555 } };
    expect(qemuEnv({ kernel: 'k', initrd: 'i' }, dir)).toEqual({});
    expect(() => qemuEnv(image, dir)).toThrow(/listen-backlog\.so is missing/);
    mkdirSync(join(dir, 'build/tools'), { recursive: true });
    writeFileSync(join(dir, 'build/tools/listen-backlog.so'), '');
    expect(qemuEnv(image, dir)).toEqual({ LD_PRELOAD: join(dir, 'build/tools/listen-backlog.so') });
  });
});
