// remark plugin: parse every smoke block (already classified by remark-code-blocks) into a
// SmokeSpec on `file.data.smokes`. `source` is the exact text of the fenced block, fences and
// info string included, so a change to the manifest or any directive changes the smoke's hash.
import type { Code, Root } from 'mdast';
import type { VFile } from 'vfile';
import { visit } from 'unist-util-visit';
import type { SmokeSpec } from './model.js';
import { fail } from '../diag/diagnostics.js';
import { parseSmoke } from './smoke-spec.js';
import './vfile-data.js';

export default function remarkSmoke() {
  return (tree: Root, file: VFile): void => {
    const source = String(file.value ?? '');
    const raw = new Map<number, string>();
    visit(tree, 'code', (node: Code) => {
      const { start, end } = node.position ?? {};
      if (start?.offset !== undefined && end?.offset !== undefined) raw.set(start.line, source.slice(start.offset, end.offset));
    });
    const smokes: SmokeSpec[] = [];
    for (const block of file.data.blocks ?? []) {
      if (block.kind !== 'smoke') continue;
      const { spec, problems } = parseSmoke(block, raw.get(block.line) ?? block.value);
      for (const p of problems) fail(file, { line: p.line, column: p.column }, p);
      if (spec) smokes.push(spec);
    }
    file.data.smokes = smokes;
  };
}
