// Tangled Rust formatted through the chapters (tangle/check/rustfmt-chapters.ts), with the real rustfmt and the
// repository's rustfmt.toml, on a scratch book: a formatting error in a file block and in an indented chunk fails the
// check at its chapter line, `npm run fmt` rewrites the chapter (never the tangled file) until the check passes, and a
// change that would cross two blocks is reported, not applied.
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { fmtChapters, runFmt } from '../../check/fmt.js';
import { diffLines } from '../../check/line-diff.js';
import { applyEdits } from '../../check/rustfmt-chapters.js';
import { repoRoot } from '../../cli/root.js';

const FRONT = '---\nphase: W.1\ntitle: Fixture\nstatus: in-progress\ndescription: A fixture chapter.\ntopics: [test]\nsmokes: []\n---\n\n';
const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function book(body: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rustfmt-chapters-'));
  scratch.push(dir);
  await mkdir(join(dir, 'chapters'));
  await copyFile(join(repoRoot(), 'rustfmt.toml'), join(dir, 'rustfmt.toml'));
  await writeFile(join(dir, 'chapters/10-w1.md'), FRONT + body);
  return dir;
}

const UNFORMATTED = [
  '```rust file=demos/fmt/main.rs',
  'fn main() {',
  '    let x=1;',
  '    <<body>>',
  '}',
  '```',
  '',
  '```rust chunk=body',
  'if x==1 { println!("one") }',
  '```',
  '',
].join('\n');

describe('diffLines', () => {
  test('hunks of changed, inserted and removed lines', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'B', 'c'])).toEqual([{ oldStart: 1, oldEnd: 2, newStart: 1, newEnd: 2 }]);
    expect(diffLines(['a', 'c'], ['a', 'b', 'c'])).toEqual([{ oldStart: 1, oldEnd: 1, newStart: 1, newEnd: 2 }]);
    expect(diffLines(['a', 'b'], ['a'])).toEqual([{ oldStart: 1, oldEnd: 2, newStart: 1, newEnd: 1 }]);
    expect(diffLines(['x'], ['x'])).toEqual([]);
  });
});

describe('applyEdits', () => {
  test('applies a chunk edit made twice once, refuses overlapping different ones', () => {
    const e = { chapter: 'c', line: 2, remove: 1, insert: ['B'] };
    expect(applyEdits(['a', 'b', 'c'], [e, { ...e }])).toEqual(['a', 'B', 'c']);
    expect(() => applyEdits(['a', 'b', 'c'], [e, { ...e, insert: ['b2'] }])).toThrow(/overlap/);
  });
});

describe('fmtChapters', () => {
  test('a formatting error fails the check at its chapter lines; fmt fixes the chapter, then the check passes', async () => {
    const dir = await book(UNFORMATTED);
    const lines: string[] = [];
    expect(await fmtChapters(dir, { check: true, log: (l) => lines.push(l) })).toBe(1);
    expect(lines).toContain('chapters/10-w1.md:12: not formatted as rustfmt would; run npm run fmt');
    expect(lines).toContain('chapters/10-w1.md:18: not formatted as rustfmt would; run npm run fmt');
    expect(await fmtChapters(dir, { check: false, log: () => {} })).toBe(0);
    const chapter = await readFile(join(dir, 'chapters/10-w1.md'), 'utf8');
    // the chunk keeps its own indentation; the reference adds the four columns
    expect(chapter).toContain('    let x = 1;\n    <<body>>\n');
    expect(chapter).toContain('```rust chunk=body\nif x == 1 {\n    println!("one")\n}\n```');
    expect(await readFile(join(dir, 'demos/fmt/main.rs'), 'utf8')).toContain('    if x == 1 {\n        println!("one")\n    }\n');
    expect(await fmtChapters(dir, { check: true, log: () => {} })).toBe(0);
  }, 60_000);

  test('a change across two blocks is reported at its chapter line and left alone', async () => {
    const dir = await book(
      [
        '```rust file=demos/fmt/main.rs',
        'fn main() {',
        '    let v = [',
        '        <<items>>',
        '    ];',
        '}',
        '```',
        '',
        '```rust chunk=items',
        '1,',
        '```',
        '',
      ].join('\n'),
    );
    const before = await readFile(join(dir, 'chapters/10-w1.md'), 'utf8');
    const lines: string[] = [];
    expect(await fmtChapters(dir, { check: false, log: (l) => lines.push(l) })).toBe(1);
    expect(lines.join('\n')).toMatch(/chapters\/10-w1\.md:12 \[demos\/fmt\/main\.rs:\d+\]: rustfmt moves code across the lines of two blocks/);
    expect(await readFile(join(dir, 'chapters/10-w1.md'), 'utf8')).toBe(before);
  }, 60_000);

  test('a formatting error in a capos/ crate fails the check; npm run fmt formats it in place', async () => {
    const dir = await book('No code here.\n');
    await cp(join(repoRoot(), 'capos/abi'), join(dir, 'capos/abi'), { recursive: true });
    await writeFile(join(dir, 'capos/Cargo.toml'), '[workspace]\nresolver = "2"\nmembers = ["abi"]\n');
    const workspaces: [string, string[]][] = [['capos/Cargo.toml', ['--all']]];
    const biome = false;
    expect(await runFmt(dir, { check: true, log: () => {}, workspaces, biome })).toBe(0);
    const lib = join(dir, 'capos/abi/src/lib.rs');
    await writeFile(lib, `${await readFile(lib, 'utf8')}\npub fn fmt_fixture( )->u32{1}\n`);
    const lines: string[] = [];
    expect(await runFmt(dir, { check: true, log: (l) => lines.push(l), workspaces, biome })).toBe(1);
    expect(lines).toContain('fmt: capos/Cargo.toml: not rustfmt-clean (the diff above); run npm run fmt');
    expect(await runFmt(dir, { check: false, log: () => {}, workspaces, biome })).toBe(0);
    expect(await readFile(lib, 'utf8')).toContain('pub fn fmt_fixture() -> u32 {\n    1\n}\n');
    expect(await runFmt(dir, { check: true, log: () => {}, workspaces, biome })).toBe(0);
  }, 60_000);
});
