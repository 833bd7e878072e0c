import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadBook, MAP_PATH, runTangle, tangleBook, writeTangled, WriteError } from '../../index.js';
import { tempPathFor } from '../../tangle/write.js';
import { hashTree, scratchCopy } from '../helpers.js';

const scratch: string[] = [];
async function copy(name: string): Promise<string> {
  const dir = await scratchCopy(name);
  scratch.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of scratch.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tangleAt(root: string) {
  return tangleBook(await loadBook(root));
}
async function mtimes(root: string, paths: string[]): Promise<number[]> {
  return Promise.all(paths.map(async (p) => (await stat(join(root, p))).mtimeMs));
}
const pause = () => new Promise((done) => setTimeout(done, 30));

describe('writeTangled', () => {
  test('writes every file and the tangle map on the first run', async () => {
    const root = await copy('expand');
    const files = await tangleAt(root);
    const result = await writeTangled(root, files);
    expect(result).toEqual({ written: files.map((f) => f.path), unchanged: [] });
    for (const file of files) expect(await readFile(join(root, file.path), 'utf8')).toBe(file.content);
    const map = JSON.parse(await readFile(join(root, MAP_PATH), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(map)).toEqual(files.map((f) => f.path));
    expect(map['capos-wasm/src/main.rs']).toEqual(files[0]!.ranges);
    expect((await stat(join(root, 'demos/hello/run.sh'))).mode & 0o777).toBe(0o755);
  });

  test('a no-op re-tangle touches no file (mtimes and bytes unchanged)', async () => {
    const root = await copy('expand');
    const files = await tangleAt(root);
    await writeTangled(root, files);
    const paths = [...files.map((f) => f.path), MAP_PATH];
    const before = await mtimes(root, paths);
    const tree = await hashTree(root);
    await pause();
    expect(await writeTangled(root, await tangleAt(root))).toEqual({ written: [], unchanged: files.map((f) => f.path) });
    expect(await mtimes(root, paths)).toEqual(before);
    expect(await hashTree(root)).toEqual(tree);
  });

  test('writes only the files whose content changed', async () => {
    const root = await copy('expand');
    await writeTangled(root, await tangleAt(root));
    const chapter = join(root, 'chapters/10-w1-first.md');
    await writeFile(chapter, (await readFile(chapter, 'utf8')).replace('(module)', '(module (memory 1))'));
    const before = await mtimes(root, ['capos-wasm/src/main.rs', 'demos/hello/hello.wat']);
    await pause();
    const result = await writeTangled(root, await tangleAt(root));
    expect(result.written).toEqual(['demos/hello/hello.wat']);
    const after = await mtimes(root, ['capos-wasm/src/main.rs', 'demos/hello/hello.wat']);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBeGreaterThan(before[1]!);
  });

  test('check mode reports drift and writes nothing', async () => {
    const root = await copy('expand');
    const files = await tangleAt(root);
    await writeTangled(root, files);
    await writeFile(join(root, 'manifests/expand.cue'), 'hand edit\n');
    const tree = await hashTree(root);
    expect(await writeTangled(root, files, { check: true })).toEqual({
      written: ['manifests/expand.cue'],
      unchanged: files.map((f) => f.path).filter((p) => p !== 'manifests/expand.cue'),
    });
    expect(await hashTree(root)).toEqual(tree);
  });

  test('a write that fails part-way leaves the tree byte-identical (no temps, no new directories)', async () => {
    const root = await copy('expand');
    // Occupy the staging path of the fourth file with a directory: the first three are staged
    // (creating capos-wasm/src/ and demos/hello/), then staging manifests/data.json fails.
    await mkdir(join(root, tempPathFor('manifests/data.json')), { recursive: true });
    const tree = await hashTree(root);
    const error = await writeTangled(root, await tangleAt(root)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).path).toBe('manifests/data.json');
    expect(await hashTree(root)).toEqual(tree);
  });

  test('a target whose folder is a file stops the run before anything is staged', async () => {
    const root = await copy('expand');
    await writeFile(join(root, 'manifests'), 'a file where a directory is needed\n');
    const tree = await hashTree(root);
    await expect(writeTangled(root, await tangleAt(root))).rejects.toBeInstanceOf(WriteError);
    expect(await hashTree(root)).toEqual(tree);
  });

  test('an unreadable existing target stops the run before anything is staged', async () => {
    const root = await copy('expand');
    await mkdir(join(root, 'demos/hello/hello.wat'), { recursive: true }); // a directory where the file goes
    const tree = await hashTree(root);
    await expect(writeTangled(root, await tangleAt(root))).rejects.toBeInstanceOf(WriteError);
    expect(await hashTree(root)).toEqual(tree);
  });

  test('keeps files it did not write and the mode of files it replaces', async () => {
    const root = await copy('expand');
    await mkdir(join(root, 'capos-wasm'), { recursive: true });
    await writeFile(join(root, 'capos-wasm/extra.rs'), 'mine\n');
    await mkdir(join(root, 'manifests'), { recursive: true });
    await writeFile(join(root, 'manifests/expand.cue'), 'old\n');
    await chmod(join(root, 'manifests/expand.cue'), 0o600);
    await writeTangled(root, await tangleAt(root));
    expect(await readFile(join(root, 'capos-wasm/extra.rs'), 'utf8')).toBe('mine\n');
    expect((await stat(join(root, 'manifests/expand.cue'))).mode & 0o777).toBe(0o600);
  });
});

describe('runTangle', () => {
  test('prints timed steps, and a no-op second run writes nothing', async () => {
    const root = await copy('expand');
    const lines: string[] = [];
    expect(await runTangle(root, { log: (l) => lines.push(l) })).toBe(0);
    expect(await runTangle(root, { log: (l) => lines.push(l) })).toBe(0);
    expect(lines.map((l) => l.replace(/\d+ ms$/, 'N ms'))).toEqual([
      'parse and tangle 2 chapters into 5 files … N ms',
      'write 5 changed, 0 unchanged … N ms',
      'parse and tangle 2 chapters into 5 files … N ms',
      'write 0 changed, 5 unchanged … N ms',
    ]);
  });

  test('a broken book prints chapter:line diagnostics, exits 1 and leaves the tree byte-identical', async () => {
    const root = await copy('expand');
    await runTangle(root, { log: () => undefined });
    const chapter = join(root, 'chapters/11-w2-second.md');
    await writeFile(chapter, `${await readFile(chapter, 'utf8')}\n\`\`\`rust file=capos-wasm/src/main.rs\n<<nowhere>>\n\`\`\`\n`);
    const tree = await hashTree(root);
    const errors: string[] = [];
    expect(await runTangle(root, { log: () => undefined, error: (l) => errors.push(l) })).toBe(1);
    expect(errors).toEqual([
      'chapters/11-w2-second.md:20:1: Unexpected second block claiming `capos-wasm/src/main.rs`, first claimed at chapters/10-w1-first.md:14. Fix: add `append` to continue the file, or write to another path. [file-claimed-twice]',
      'chapters/11-w2-second.md:21:1: Unexpected reference to undefined chunk `nowhere`. Fix: define it with a block `chunk="nowhere"`, or correct the name. [undefined-chunk]',
      'tangle: 2 problems; nothing was written',
    ]);
    expect(await hashTree(root)).toEqual(tree);
  });

  test('reports files an earlier run wrote that no chapter writes any more, and keeps them', async () => {
    const root = await copy('expand');
    await runTangle(root, { log: () => undefined });
    const chapter = join(root, 'chapters/10-w1-first.md');
    await writeFile(chapter, (await readFile(chapter, 'utf8')).replace('json file=manifests/data.json', 'json'));
    const lines: string[] = [];
    expect(await runTangle(root, { log: (l) => lines.push(l) })).toBe(0);
    expect(lines.at(-1)).toBe('stale: manifests/data.json is no longer written by any chapter; delete it if nothing needs it');
    expect(await readFile(join(root, 'manifests/data.json'), 'utf8')).toBe('{"a": 1}\n');
  });

  test('--check exits 1 on drift without writing, 0 when in sync', async () => {
    const root = await copy('expand');
    const errors: string[] = [];
    const quiet = { log: () => undefined, error: (l: string) => errors.push(l) };
    const tree = await hashTree(root);
    expect(await runTangle(root, { ...quiet, check: true })).toBe(1);
    expect(await hashTree(root)).toEqual(tree);
    expect(errors[0]).toBe('drift: capos-wasm/src/main.rs differs from its chapters; run npm run tangle');
    await runTangle(root, quiet);
    expect(await runTangle(root, { ...quiet, check: true })).toBe(0);
  });
});
