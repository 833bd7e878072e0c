// The capOS schema's ABI, pinned: every interface's 64-bit Cap'n Proto id and every method's ordinal, read from
// `capnp compile -ocapnp` (which prints the schema with each node's id made explicit, the implicit ones included) and
// compared with the checked file capos/schema/abi-pin.txt. A change to an id or an ordinal is an ABI break for every
// compiled capOS program, so it must show in the same commit as a change to the pinned file (`make
// generated-code-check`, chapter A.2, "The plan's commands").
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export const SCHEMA = 'capos/schema/capos.capnp';
export const PIN = 'capos/schema/abi-pin.txt';

/** One interface as the wire sees it: its dotted name, its id, and its methods' ordinals by name. */
export interface InterfaceAbi {
  name: string;
  id: string;
  methods: { name: string; ordinal: number }[];
}
export interface SchemaAbi {
  fileId: string;
  interfaces: InterfaceAbi[];
}

const NODE = /^\s*(struct|interface|enum)\s+(\w+)\s+@(0x[0-9a-f]+)\b/;
const METHOD = /^\s*(\w+)\s+@(\d+)\s*\(/;
const FILE_ID = /^@(0x[0-9a-f]+);/m;

/** Pure: the interfaces and methods of `capnp compile -ocapnp` output. Nested nodes get dotted names. */
export function parseSchemaAbi(text: string): SchemaAbi {
  const fileId = FILE_ID.exec(text)?.[1];
  if (!fileId) throw new Error('no file id (`@0x…;`) in the capnp output');
  const interfaces: InterfaceAbi[] = [];
  // one entry per open brace: the node it opened (undefined for groups, unions and annotations' bodies)
  const stack: ({ name: string; iface?: InterfaceAbi } | undefined)[] = [];
  for (const line of text.split('\n')) {
    const code = line.replace(/#.*$/, '');
    const node = NODE.exec(code);
    const current = [...stack].reverse().find((s) => s !== undefined);
    if (!node && current?.iface && stack.at(-1) === current) {
      const method = METHOD.exec(code);
      if (method) current.iface.methods.push({ name: method[1]!, ordinal: Number(method[2]) });
    }
    const opens = (code.match(/\{/g) ?? []).length;
    const closes = (code.match(/\}/g) ?? []).length;
    for (let i = 0; i < opens; i++) {
      if (i === 0 && node) {
        const name = current ? `${current.name}.${node[2]}` : node[2]!;
        const iface = node[1] === 'interface' ? { name, id: node[3]!, methods: [] } : undefined;
        if (iface) interfaces.push(iface);
        stack.push({ name, ...(iface ? { iface } : {}) });
      } else stack.push(undefined);
    }
    for (let i = 0; i < closes; i++) stack.pop();
  }
  return { fileId, interfaces };
}

/** The pinned file's text for `abi`: one line per interface, one indented line per method, in schema order. */
export function formatSchemaAbi(abi: SchemaAbi): string {
  const lines = [
    `# The ABI of ${SCHEMA}, pinned: interface ids and method ordinals (what the ring carries).`,
    '# A difference fails `make generated-code-check`. Changing them is an ABI break: update this file in the same',
    '# commit with `npm run generated-code-check -- --write`, so the change is visible in review.',
    `file ${abi.fileId}`,
  ];
  for (const i of abi.interfaces) {
    lines.push(`interface ${i.name} ${i.id}`);
    for (const m of i.methods) lines.push(`  ${m.name} @${m.ordinal}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Pure: what differs between the pinned text and the schema's, as `PIN:line: …` messages (empty when equal). */
export function compareSchemaAbi(pinned: string, actual: string): string[] {
  const strip = (t: string) =>
    t
      .split('\n')
      .map((l, i) => ({ l, n: i + 1 }))
      .filter(({ l }) => l.trim() !== '' && !l.startsWith('#'));
  const want = strip(pinned);
  const have = strip(actual);
  const haveSet = new Set(have.map(({ l }) => l));
  const wantSet = new Set(want.map(({ l }) => l));
  const out: string[] = [];
  for (const { l, n } of want) if (!haveSet.has(l)) out.push(`${PIN}:${n}: pinned \`${l.trim()}\` is not in ${SCHEMA} any more`);
  for (const { l } of have) if (!wantSet.has(l)) out.push(`${PIN}: ${SCHEMA} has \`${l.trim()}\`, which is not pinned`);
  // the same lines in another order: an interface's methods moved between interfaces, or interfaces reordered
  if (out.length === 0 && want.map(({ l }) => l).join('\n') !== have.map(({ l }) => l).join('\n')) {
    out.push(`${PIN}: the same ids and ordinals in another order than ${SCHEMA}`);
  }
  return out;
}

/** Runs Debian's capnp on the schema and parses its output. */
export async function readSchemaAbi(root: string, schema = SCHEMA): Promise<SchemaAbi> {
  const r = await execa('capnp', ['compile', '-ocapnp', schema], { cwd: root, reject: false });
  if (r.exitCode !== 0) throw new Error(`capnp compile -ocapnp ${schema} failed (is Debian's capnproto installed?):\n${r.stderr}`);
  return parseSchemaAbi(r.stdout);
}

/** The check: the problems found (empty when the pin matches), or with `write` the pinned file rewritten. */
export async function checkSchemaAbi(root: string, options: { write?: boolean; schema?: string; pin?: string } = {}): Promise<string[]> {
  const actual = formatSchemaAbi(await readSchemaAbi(root, options.schema ?? SCHEMA));
  const pinPath = join(root, options.pin ?? PIN);
  if (options.write) {
    await writeFile(pinPath, actual);
    return [];
  }
  const pinned = await readFile(pinPath, 'utf8').catch(() => '');
  return compareSchemaAbi(pinned, actual);
}
