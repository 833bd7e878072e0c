// remark plugin: turn every code node into a Block (file, chunk, include, smoke or plain) by
// reading the attributes of its info string. Unknown or conflicting attributes are errors, so a
// typo such as `fiel=` never silently turns a file block into an illustration.
import type { Code, Root } from 'mdast';
import type { VFile } from 'vfile';
import { visit } from 'unist-util-visit';
import type { Block, BlockKind } from './model.js';
import { fail } from '../diag/diagnostics.js';
import { parseInfoAttributes } from './info-string.js';
import { badRelativePath, chapterPathOf, isTangledPath, TANGLED_ROOTS } from './paths.js';
import './vfile-data.js';

/** Attributes each kind accepts; `title` is a caption for the site and allowed everywhere. */
const ALLOWED: Record<BlockKind, readonly string[]> = {
  file: ['file', 'append', 'title'],
  chunk: ['chunk', 'append', 'title'],
  include: ['include', 'region', 'title'],
  smoke: ['name', 'manifest', 'cpu', 'title', 'disk', 'net'],
  plain: ['title'],
};
const TARGET_KEYS = ['file', 'chunk', 'include'] as const;

export default function remarkCodeBlocks() {
  return (tree: Root, file: VFile): void => {
    const chapter = chapterPathOf(file.path);
    const source = String(file.value ?? '');
    const lines = source.split('\n');
    const blocks: Block[] = [];
    visit(tree, 'code', (node: Code) => {
      const block = toBlock(node, chapter, file, lines);
      if (block) blocks.push(block);
    });
    file.data.blocks = blocks;
  };
}

function toBlock(node: Code, chapter: string, file: VFile, lines: string[]): Block | undefined {
  const line = node.position?.start.line ?? 1;
  const fenceColumn = node.position?.start.column ?? 1;
  const fenced = /^\s*(`{3,}|~{3,})/.test(lines[line - 1] ?? '');
  const bodyLine = fenced ? line + 1 : line;
  const meta = node.meta ?? '';
  const lang = node.lang ?? '';
  // Column of an attribute: find the raw meta in the fence line, fall back to the fence itself.
  const metaColumn = (lines[line - 1] ?? '').indexOf(meta) + 1;
  const columnOf = (offset: number) => (meta !== '' && metaColumn > 0 ? metaColumn + offset : fenceColumn);

  const parsed = parseInfoAttributes(meta);
  for (const problem of parsed.problems) {
    fail(
      file,
      { line, column: columnOf(problem.offset) },
      {
        reason: problem.reason,
        ruleId: 'malformed-info-string',
        hint: 'write attributes as `key=value`, `key="value with spaces"` or a bare flag such as `append`',
      },
    );
  }
  const attrs: Record<string, string | true> = {};
  for (const attribute of parsed.attributes) {
    if (attribute.key in attrs) {
      fail(
        file,
        { line, column: columnOf(attribute.offset) },
        {
          reason: `Unexpected second \`${attribute.key}\` attribute, expected each attribute once`,
          ruleId: 'duplicate-attribute',
          hint: `remove one of the \`${attribute.key}\` attributes`,
        },
      );
      continue;
    }
    attrs[attribute.key] = attribute.value;
  }

  const targets = TARGET_KEYS.filter((key) => key in attrs);
  const kind: BlockKind = lang === 'smoke' ? 'smoke' : (targets[0] ?? 'plain');
  if (lang !== 'smoke' && targets.length > 1) {
    fail(
      file,
      { line, column: fenceColumn },
      {
        reason: `Unexpected attributes ${targets.map((t) => `\`${t}\``).join(' and ')} together, expected one of them`,
        ruleId: 'conflicting-attributes',
        hint: 'split the block: a block either writes a file, defines a chunk or includes a region',
      },
    );
  }
  for (const attribute of parsed.attributes) {
    if (ALLOWED[kind].includes(attribute.key)) continue;
    if (targets.length > 1 && targets.includes(attribute.key as (typeof TARGET_KEYS)[number])) continue; // reported above
    fail(
      file,
      { line, column: columnOf(attribute.offset) },
      {
        reason: `Unexpected attribute \`${attribute.key}\` on a ${kind} block, expected one of ${ALLOWED[kind].map((k) => `\`${k}\``).join(', ')}`,
        ruleId: 'unknown-attribute',
        hint:
          kind === 'plain'
            ? 'name a target with `file=`, `chunk=` or `include=`, or remove the attribute'
            : 'correct the spelling or remove the attribute (see chapter A.2, the chapter format)',
      },
    );
  }

  // CRLF chapters tangle to LF files, and references are found on either.
  const base = { lang, attrs, value: node.value.replace(/\r\n?/g, '\n'), chapter, line, bodyLine };
  const append = attrs.append === true;
  if (attrs.append !== undefined && attrs.append !== true) {
    fail(
      file,
      { line, column: fenceColumn },
      {
        reason: 'Unexpected value for `append`, expected a bare flag',
        ruleId: 'malformed-info-string',
        hint: 'write `append` without `=`',
      },
    );
  }
  const plain: Block = { ...base, kind: 'plain' };
  if (kind === 'plain') return plain;
  const targetKey = kind === 'smoke' ? 'name' : kind;
  const target = attrs[targetKey];
  if (typeof target !== 'string') {
    fail(
      file,
      { line, column: fenceColumn },
      {
        reason: `Unexpected ${kind} block without a \`${targetKey}=\` value, expected \`${targetKey}=…\``,
        ruleId: 'missing-attribute',
        hint: `add \`${targetKey}=…\` to the info string`,
      },
    );
    return plain;
  }
  const block: Block =
    kind === 'file' || kind === 'chunk'
      ? { ...base, kind, target, append }
      : kind === 'include'
        ? { ...base, kind, target, ...(typeof attrs.region === 'string' ? { region: attrs.region } : {}) }
        : { ...base, kind, target };
  // Keep the kind when the target itself is sound, so one typo does not cascade into
  // "chunk never used" noise; demote to plain only when there is no usable target.
  return checkTarget(block, file, fenceColumn) ? block : plain;
}

function checkTarget(block: Block, file: VFile, column: number): boolean {
  const place = { line: block.line, column };
  const target = block.kind === 'plain' ? undefined : block.target;
  if (block.kind === 'file' && target !== undefined) {
    const bad = badRelativePath(target);
    if (bad) {
      fail(file, place, {
        reason: `Unexpected \`file=${target}\` (${bad}), expected a path relative to the repository root`,
        ruleId: 'bad-file-path',
        hint: 'write the path as e.g. `file=capos-wasm/src/main.rs`',
      });
      return false;
    }
    if (!isTangledPath(target)) {
      fail(file, place, {
        reason: `Unexpected \`file=${target}\` outside the tangled folders, expected a path under ${TANGLED_ROOTS.map((r) => `\`${r}\``).join(', ')}`,
        ruleId: 'file-outside-tangled-roots',
        hint: 'hand-written code lives outside chapters; show it with `include=` instead',
      });
      return false;
    }
  }
  if (block.kind === 'chunk' && target !== undefined && (/[<>\n]/.test(target) || target.trim() !== target || target === '')) {
    fail(file, place, {
      reason: `Unexpected chunk name \`${target}\`, expected a name without \`<\`, \`>\` or surrounding spaces`,
      ruleId: 'bad-chunk-name',
      hint: 'rename the chunk, e.g. `chunk="wasi imports"`',
    });
    return false;
  }
  if (block.kind === 'include') {
    const bad = target === undefined ? undefined : badRelativePath(target);
    if (bad) {
      fail(file, place, {
        reason: `Unexpected \`include=${target}\` (${bad}), expected a path relative to the repository root`,
        ruleId: 'bad-include-path',
        hint: 'write the path as e.g. `include=capos/kernel/src/ring.rs`',
      });
      return false;
    }
    if (block.value.trim() !== '') {
      fail(file, place, {
        reason: 'Unexpected body in an include block, expected an empty block',
        ruleId: 'include-with-body',
        hint: 'leave the block empty: the tangler fills it from the included file',
      });
      return false;
    }
  }
  if (block.kind === 'smoke' && typeof block.attrs.manifest !== 'string') {
    fail(file, place, {
      reason: 'Unexpected smoke block without `manifest=`, expected the manifest it boots',
      ruleId: 'missing-attribute',
      hint: 'add e.g. `manifest=manifests/system-wasm-host.cue`',
    });
    return false;
  }
  return true;
}
