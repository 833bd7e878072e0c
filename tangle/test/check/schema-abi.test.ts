// The pinned ABI (tangle/check/schema-abi.ts) against the real schema and real capnp: the repository's pin matches,
// and a scratch copy of the schema with one interface id or one ordinal changed fails the check.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { checkSchemaAbi, compareSchemaAbi, formatSchemaAbi, parseSchemaAbi, PIN, SCHEMA } from '../../check/schema-abi.js';
import { repoRoot } from '../../cli/root.js';

const root = repoRoot();
const scratch: string[] = [];
afterEach(async () => {
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A scratch root holding the repository's pin and the schema after `edit`. */
async function scratchRoot(edit: (schema: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'schema-abi-'));
  scratch.push(dir);
  await mkdir(join(dir, 'capos/schema'), { recursive: true });
  const schema = await readFile(join(root, SCHEMA), 'utf8');
  const edited = edit(schema);
  expect(edited).not.toBe(schema);
  await writeFile(join(dir, SCHEMA), edited);
  await writeFile(join(dir, PIN), await readFile(join(root, PIN), 'utf8'));
  return dir;
}

describe('parseSchemaAbi', () => {
  test('reads nested interfaces, method ordinals, and skips struct fields', () => {
    const abi = parseSchemaAbi(
      [
        '@0x1111111111111111;',
        'struct S @0x2222222222222222 {  # 8 bytes',
        '  a @0 :UInt32;',
        '  interface Inner @0x3333333333333333 {',
        '    go @0 () -> ();',
        '  }',
        '}',
        'interface Top @0x4444444444444444 {',
        '  first @0 (x :Data) -> ();',
        '  second @1 () -> (y :Text);  # comment {',
        '}',
      ].join('\n'),
    );
    expect(abi).toEqual({
      fileId: '0x1111111111111111',
      interfaces: [
        { name: 'S.Inner', id: '0x3333333333333333', methods: [{ name: 'go', ordinal: 0 }] },
        {
          name: 'Top',
          id: '0x4444444444444444',
          methods: [
            { name: 'first', ordinal: 0 },
            { name: 'second', ordinal: 1 },
          ],
        },
      ],
    });
  });
});

describe('compareSchemaAbi', () => {
  test('names the pinned line that changed', () => {
    const pinned = formatSchemaAbi({ fileId: '0x1', interfaces: [{ name: 'A', id: '0xa', methods: [{ name: 'm', ordinal: 0 }] }] });
    const actual = formatSchemaAbi({ fileId: '0x1', interfaces: [{ name: 'A', id: '0xb', methods: [{ name: 'm', ordinal: 0 }] }] });
    expect(compareSchemaAbi(pinned, pinned)).toEqual([]);
    const problems = compareSchemaAbi(pinned, actual);
    expect(problems[0]).toBe(`${PIN}:5: pinned \`interface A 0xa\` is not in ${SCHEMA} any more`);
    expect(problems[1]).toContain('`interface A 0xb`, which is not pinned');
  });
});

describe('checkSchemaAbi', () => {
  test('the repository schema matches its pin', async () => {
    expect(await checkSchemaAbi(root)).toEqual([]);
  });

  test('an interface id changed in the schema fails', async () => {
    const dir = await scratchRoot((s) => s.replace('interface Console {', 'interface Console @0xbed478a012f37e33 {'));
    const problems = await checkSchemaAbi(dir);
    expect(problems.join('\n')).toContain('pinned `interface Console 0xbed478a012f37e32` is not in');
  });

  test('a method ordinal changed in the schema fails', async () => {
    const dir = await scratchRoot((s) => s.replace('write @0 (data :Data) -> ();\n  writeLine @1', 'write @1 (data :Data) -> ();\n  writeLine @0'));
    expect((await checkSchemaAbi(dir)).join('\n')).toContain('pinned `write @0` is not in');
  });

  test('--write pins the changed schema, after which it passes', async () => {
    const dir = await scratchRoot((s) => s.replace('interface Console {', 'interface Console @0xbed478a012f37e33 {'));
    await checkSchemaAbi(dir, { write: true });
    expect(await checkSchemaAbi(dir)).toEqual([]);
  });
});
