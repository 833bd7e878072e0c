// The watch's change queue: saves in a quiet time become one cycle, and saves during a cycle one more after it.
import { describe, expect, test } from 'vitest';
import { isBookSource, serialise } from '../../watch/changes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('serialise', () => {
  test('gathers the saves of a quiet time into one cycle, and never overlaps two', async () => {
    const batches: string[][] = [];
    let running = 0;
    let overlapped = false;
    const add = serialise(
      async (changed) => {
        running += 1;
        overlapped ||= running > 1;
        batches.push(changed);
        await sleep(80);
        running -= 1;
      },
      (e) => {
        throw e;
      },
      20,
    );
    add('chapters/b.md');
    add('chapters/a.md');
    add('chapters/b.md');
    await sleep(50);
    // during the first cycle: these wait for it, then run together
    add('chapters/c.md');
    await sleep(30);
    add('chapters/d.md');
    await sleep(300);
    expect(batches).toEqual([
      ['chapters/a.md', 'chapters/b.md'],
      ['chapters/c.md', 'chapters/d.md'],
    ]);
    expect(overlapped).toBe(false);
  });

  test('a cycle that throws does not stop later ones', async () => {
    const seen: string[][] = [];
    const add = serialise(
      async (changed) => {
        seen.push(changed);
        if (changed.includes('chapters/bad.md')) throw new Error('broke');
      },
      (e) => errors.push(e),
      10,
    );
    const errors: unknown[] = [];
    add('chapters/bad.md');
    await sleep(50);
    add('chapters/good.md');
    await sleep(50);
    expect(seen).toEqual([['chapters/bad.md'], ['chapters/good.md']]);
    expect(errors).toEqual([new Error('broke')]);
  });
});

test('only chapters and the phase list are book sources', () => {
  expect(isBookSource('16-w5-host-runner.md')).toBe(true);
  expect(isBookSource('phases.yaml')).toBe(true);
  expect(isBookSource('.16-w5-host-runner.md.swp')).toBe(false);
  expect(isBookSource('16-w5-host-runner.md~')).toBe(false);
});
