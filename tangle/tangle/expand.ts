// Chunk table and recursive expansion. Every output line remembers the chapter line it came
// from, which is what the tangle map is made of.
import type { Block, ChunkBlock } from '../parse/model.js';
import type { Diagnostics } from '../diag/diagnostics.js';
import { parseReference } from './references.js';

/** One output line and where it came from; `indent` is how many columns references added in front of it. */
export interface OutLine {
  text: string;
  chapter: string;
  chapterLine: number;
  block: string;
  indent?: number;
}

export function blockLabel(block: Block): string {
  return `${block.kind}=${block.kind === 'plain' ? '' : block.target}`;
}

/** Chunk name → its defining block followed by its `append` extensions, in book order.
 * Blocks refused as second definitions go to `rejected`, to be checked but not tangled. */
export function buildChunks(blocks: readonly Block[], diag: Diagnostics, rejected: ChunkBlock[] = []): Map<string, ChunkBlock[]> {
  const chunks = new Map<string, ChunkBlock[]>();
  for (const block of blocks) {
    if (block.kind !== 'chunk') continue;
    const name = block.target;
    const existing = chunks.get(name);
    if (!existing) {
      if (block.append)
        diag.error(
          { chapter: block.chapter, line: block.line },
          {
            reason: `Unexpected \`append\` to chunk \`${name}\`, which no earlier block defines`,
            ruleId: 'append-without-start',
            hint: 'remove `append` here, or define the chunk in an earlier block or chapter',
          },
        );
      chunks.set(name, [block]);
      continue;
    }
    if (!block.append) {
      const first = existing[0]!;
      diag.error(
        { chapter: block.chapter, line: block.line },
        {
          reason: `Unexpected second definition of chunk \`${name}\`, first defined at ${first.chapter}:${first.line}`,
          ruleId: 'duplicate-chunk',
          hint: 'add `append` to extend the chunk, or rename one of them',
          cause: { chapter: first.chapter, line: first.line, reason: 'first defined here' },
        },
      );
      rejected.push(block);
      continue;
    }
    existing.push(block);
  }
  return chunks;
}

export class Expander {
  private readonly reportedCycles = new Set<string>();

  /** `laterChunks`: in a chapter state (tangle/tangle/states.ts), names that only later chapters define; a reference
   * to one is an extension point and expands to nothing. */
  constructor(
    private readonly chunks: Map<string, Block[]>,
    private readonly diag: Diagnostics,
    private readonly laterChunks: ReadonlySet<string> = new Set(),
  ) {}

  /** The lines of `block`, with every reference replaced by the chunk's expansion. */
  expandBlock(block: Block, stack: string[] = []): OutLine[] {
    const out: OutLine[] = [];
    const label = blockLabel(block);
    const lines = block.value === '' ? [] : block.value.split('\n');
    lines.forEach((text, index) => {
      const chapterLine = block.bodyLine + index;
      const reference = parseReference(text);
      if (!reference) {
        out.push({ text, chapter: block.chapter, chapterLine, block: label });
        return;
      }
      const place = { chapter: block.chapter, line: chapterLine, column: reference.indent.length + 1 };
      const definition = this.chunks.get(reference.name);
      if (!definition) {
        if (this.laterChunks.has(reference.name)) return;
        this.diag.error(place, {
          reason: `Unexpected reference to undefined chunk \`${reference.name}\``,
          ruleId: 'undefined-chunk',
          hint: `define it with a block \`chunk="${reference.name}"\`, or correct the name`,
        });
        return;
      }
      if (stack.includes(reference.name)) {
        const members = stack.slice(stack.indexOf(reference.name));
        const key = [...members].sort().join('\0');
        if (this.reportedCycles.has(key)) return; // the same cycle, entered at another chunk
        this.reportedCycles.add(key);
        const cycle = [...members, reference.name].join(' → ');
        this.diag.error(place, {
          reason: `Unexpected reference cycle ${cycle}`,
          ruleId: 'reference-cycle',
          hint: 'a chunk must not reach itself through its references; break the cycle',
        });
        return;
      }
      for (const part of definition) {
        for (const line of this.expandBlock(part, [...stack, reference.name])) {
          // Indentation of the reference goes before every expanded line; blank lines stay blank.
          const indent = (line.indent ?? 0) + reference.indent.length;
          out.push({ ...line, text: line.text === '' ? '' : reference.indent + line.text, ...(indent > 0 ? { indent } : {}) });
        }
      }
    });
    return out;
  }
}

/** Names referenced anywhere in file or chunk blocks (used to report chunks nobody uses). */
export function referencedNames(blocks: readonly Block[]): Set<string> {
  const names = new Set<string>();
  for (const block of blocks) {
    if (block.kind !== 'file' && block.kind !== 'chunk') continue;
    for (const line of block.value.split('\n')) {
      const reference = parseReference(line);
      if (reference) names.add(reference.name);
    }
  }
  return names;
}
