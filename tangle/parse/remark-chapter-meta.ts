// remark plugin: validate a chapter's YAML front matter against the fixed keys of ChapterMeta
// and leave the typed result on `file.data.chapterMeta`. Every problem names its own line.
import type { Root, Yaml } from 'mdast';
import type { VFile } from 'vfile';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Pair } from 'yaml';
import type { ChapterMeta, Stamp, Status } from './model.js';
import { fail, type Problem } from '../diag/diagnostics.js';
import './vfile-data.js';

export interface ChapterMetaOptions {
  /** Report a chapter without front matter (default true; the site may strip it before remark). */
  required?: boolean;
}

export const STATUSES: readonly Status[] = ['planned', 'in-progress', 'done', 'blocked'];
/** W.0 … W.8 for phases, A.0 (introduction), A.1 … for appendices. */
export const PHASE = /^(W\.[0-8]|A\.(0|[1-9][0-9]*))$/;
export const STAMP_COMMIT = /^[0-9a-f]{8}$/;
export const STAMP_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/;
const REQUIRED = ['phase', 'title', 'status', 'description', 'topics', 'smokes'] as const;
const KEYS = [...REQUIRED, 'stamp'];

export default function remarkChapterMeta(options: ChapterMetaOptions | null | undefined = {}) {
  if (options !== null && options !== undefined && (typeof options !== 'object' || (options.required !== undefined && typeof options.required !== 'boolean'))) {
    throw new TypeError('remark-chapter-meta: expected options `{ required?: boolean }`');
  }
  const required = options?.required ?? true;
  return (tree: Root, file: VFile): void => {
    const node = tree.children.find((child): child is Yaml => child.type === 'yaml');
    if (!node) {
      if (required)
        fail(
          file,
          { line: 1 },
          {
            reason: 'Unexpected chapter without front matter, expected a `---` YAML block first',
            ruleId: 'missing-front-matter',
            hint: 'start the chapter with `---`, the keys phase, title, status, description, topics, smokes, and `---`',
          },
        );
      return;
    }
    const meta = readMeta(node, file);
    if (meta) file.data.chapterMeta = meta;
  };
}

function readMeta(node: Yaml, file: VFile): ChapterMeta | undefined {
  const firstLine = (node.position?.start.line ?? 1) + 1; // the line after the opening `---`
  const counter = new LineCounter();
  const doc = parseDocument(node.value, { lineCounter: counter, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => firstLine + (offset === undefined ? 0 : counter.linePos(offset).line - 1);
  const problems: Array<[number, Problem]> = [];
  const report = (line: number, problem: Problem) => problems.push([line, problem]);
  for (const error of doc.errors) {
    report(lineOf(error.pos[0]), {
      reason: `Unexpected YAML: ${error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      ruleId: 'front-matter-syntax',
      hint: 'fix the YAML syntax of the front matter',
    });
  }
  if (doc.errors.length === 0 && !isMap(doc.contents)) {
    report(firstLine, {
      reason: 'Unexpected front matter that is not a mapping, expected `key: value` lines',
      ruleId: 'front-matter-type',
      hint: 'write the front matter as `phase: W.1`, `title: …` lines',
    });
  }
  const values = new Map<string, { node: YamlNode | null; line: number }>();
  if (doc.errors.length === 0 && isMap(doc.contents)) {
    for (const pair of doc.contents.items as Pair<unknown, unknown>[]) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const line = lineOf(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
      if (!KEYS.includes(key)) {
        report(line, {
          reason: `Unexpected front-matter key \`${key}\`, expected one of ${KEYS.map((k) => `\`${k}\``).join(', ')}`,
          ruleId: 'unknown-front-matter-key',
          hint: 'remove the key or correct its spelling',
        });
        continue;
      }
      values.set(key, { node: (pair.value ?? null) as YamlNode | null, line });
    }
    const endLine = node.position?.end.line ?? firstLine; // the closing `---`: add missing keys above it
    for (const key of REQUIRED) {
      if (!values.has(key))
        report(endLine, {
          reason: `Missing front-matter key \`${key}\``,
          ruleId: 'missing-front-matter-key',
          hint: key === 'smokes' || key === 'topics' ? `add \`${key}: []\` if the chapter has none` : `add \`${key}: …\``,
        });
    }
  }
  const meta: Partial<ChapterMeta> = {};
  const text = (key: 'title' | 'description' | 'phase') => {
    const entry = values.get(key);
    if (!entry) return;
    if (!isScalar(entry.node) || typeof entry.node.value !== 'string' || entry.node.value.trim() === '') {
      report(entry.line, {
        reason: `Unexpected ${describe(entry.node)} for \`${key}\`, expected a non-empty string`,
        ruleId: 'front-matter-type',
        hint: `write \`${key}: some text\``,
      });
      return;
    }
    meta[key] = entry.node.value;
  };
  text('phase');
  text('title');
  text('description');
  if (meta.phase !== undefined && !PHASE.test(meta.phase)) {
    report(values.get('phase')!.line, {
      reason: `Unexpected phase \`${meta.phase}\`, expected W.0 … W.8 or A.0, A.1 …`,
      ruleId: 'bad-phase',
      hint: 'write e.g. `phase: W.1`',
    });
    delete meta.phase;
  }
  const status = values.get('status');
  if (status) {
    const value = isScalar(status.node) ? status.node.value : undefined;
    if (typeof value === 'string' && (STATUSES as readonly string[]).includes(value)) meta.status = value as Status;
    else
      report(status.line, {
        reason: `Unexpected status \`${String(value ?? describe(status.node))}\`, expected one of ${STATUSES.map((s) => `\`${s}\``).join(', ')}`,
        ruleId: 'bad-status',
        hint: 'write e.g. `status: in-progress`',
      });
  }
  for (const key of ['topics', 'smokes'] as const) {
    const entry = values.get(key);
    if (!entry) continue;
    const items = isSeq(entry.node) ? entry.node.items : undefined;
    if (!items?.every((item) => isScalar(item) && typeof item.value === 'string')) {
      report(entry.line, {
        reason: `Unexpected ${describe(entry.node)} for \`${key}\`, expected a list of strings`,
        ruleId: 'front-matter-type',
        hint: `write \`${key}: [a, b]\` or \`${key}: []\``,
      });
      continue;
    }
    meta[key] = items.map((item) => String((item as { value: unknown }).value));
  }
  const stamp = values.get('stamp');
  if (stamp) {
    const parsed = readStamp(stamp.node);
    if (typeof parsed === 'string') report(stamp.line, { reason: parsed, ruleId: 'bad-stamp', hint: 'let `npm run stamp -- <phase>` write the stamp' });
    else meta.stamp = parsed;
  }
  for (const [line, problem] of problems) fail(file, { line }, problem);
  return problems.length === 0 ? (meta as ChapterMeta) : undefined;
}

function readStamp(node: YamlNode | null): Stamp | string {
  if (!isMap(node)) return `Unexpected ${describe(node)} for \`stamp\`, expected \`{ commit, time }\``;
  const json = node.toJSON() as Record<string, unknown>;
  const keys = Object.keys(json);
  if (keys.some((k) => k !== 'commit' && k !== 'time')) return `Unexpected stamp keys ${keys.join(', ')}, expected exactly \`commit\` and \`time\``;
  const { commit, time } = json;
  if (typeof commit !== 'string' || !STAMP_COMMIT.test(commit))
    return `Unexpected stamp commit \`${String(commit)}\`, expected an 8-character short hash as a quoted string`;
  if (typeof time !== 'string' || !STAMP_TIME.test(time)) return `Unexpected stamp time \`${String(time)}\`, expected \`YYYY-MM-DD HH:MM UTC\``;
  return { commit, time };
}

function describe(node: YamlNode | null): string {
  if (node === null) return 'an empty value';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) return node.value === null ? 'an empty value' : `${typeof node.value} \`${String(node.value)}\``;
  return 'a value';
}
