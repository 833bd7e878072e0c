// Remark plugin: renders each smoke block as a result panel. The panel shows the block's own lines (each with its
// chapter line id, marked with the assertion's outcome when the result is current), the state badge (pass, fail,
// stale, missing: only a current, ok result is ever shown as passing), the run's facts and the serial transcript.
import type { Element, ElementContent } from 'hast';
import { h } from 'hastscript';
import type { Root } from 'mdast';
import { visit } from 'unist-util-visit';
import type { Chapter, AssertionResult, BootRecord } from '../../tangle/index.js';
import { joinLines } from './highlight.js';
import { hastNode } from './remark-book-blocks.js';
import { ledgerPanel } from './ledger-panel.js';
import { STATE_LABEL, type SmokeView } from './results.js';
import { chapterHref, smokeAnchor, tangledHref } from './slugs.js';

export interface SmokePanelsOptions {
  chapter: Chapter;
  views: Map<string, SmokeView>;
}

export default function remarkSmokePanels(options: SmokePanelsOptions) {
  if (!options?.chapter || !options.views) throw new Error('remark-smoke-panels: expected { chapter, views }');
  const { chapter, views } = options;
  const byLine = new Map(chapter.blocks.filter((b) => b.kind === 'smoke').map((b) => [b.line, b] as const));
  return function transform(tree: Root): void {
    visit(tree, 'code', (node, index, parent) => {
      if (!parent || index === undefined || !node.position) return;
      const block = byLine.get(node.position.start.line);
      if (!block?.target) return;
      const view = views.get(block.target) ?? { name: block.target, state: 'missing', reason: 'no result' };
      parent.children[index] = hastNode(smokePanel(view, block.value, block.bodyLine, block.line, chapter.path));
    });
  };
}

export function stateBadge(state: SmokeView['state']): Element {
  return h('span', { className: `smoke-badge state-${state}`, dataState: state }, STATE_LABEL[state]);
}

export function smokePanel(view: SmokeView, body: string, bodyLine: number, fenceLine: number, chapterPath: string): Element {
  const r = view.result;
  const current = view.state === 'pass' || view.state === 'fail';
  const byLine = new Map<number, AssertionResult[]>();
  const assertions = (r?.boots ?? []).flatMap((b, i) => b.assertions.map((a) => ({ a, boot: i + 1 })));
  for (const { a } of assertions) byLine.set(a.chapterLine, [...(byLine.get(a.chapterLine) ?? []), a]);

  const lines = body
    .replace(/\n$/, '')
    .split('\n')
    .map((text, i) => {
      const n = bodyLine + i;
      const marks = current ? (byLine.get(n) ?? []) : [];
      const ok = marks.length ? marks.every((a) => a.ok) : undefined;
      const cls = ok === undefined ? 'line' : ok ? 'line assert-ok' : 'line assert-fail';
      return h('span', { className: cls, id: `L${n}`, dataLine: String(n) }, [text, ok === undefined ? '' : h('span.assert-mark', ok ? ' ✓' : ' ✗')]);
    });
  const spec = h('pre.smoke-spec', h('code', joinLines(lines)));

  const facts: ElementContent[] = [];
  if (r) {
    const fact = (k: string, v: string) => facts.push(h('div', [h('dt', k), h('dd', v)]));
    // One value per boot, joined, so a multi-boot smoke shows each boot's figure in boot order.
    const perBoot = (f: (b: BootRecord) => string) => r.boots.map(f).join(', ');
    fact(
      'exit status',
      perBoot((b) => (b.exitStatus === null ? 'none' : String(b.exitStatus))),
    );
    fact(
      'QEMU status',
      perBoot((b) => (b.qemuStatus === null ? 'none' : String(b.qemuStatus))),
    );
    fact('accelerator', r.accelerator.toUpperCase());
    fact(
      r.boots.length > 1 ? `boots (${r.boots.length})` : 'boot',
      perBoot((b) => `${b.bootMs} ms`),
    );
    if (r.diskBytes !== undefined) fact('disk', `${r.diskBytes / (1 << 20)} MiB, fresh for this smoke, kept across its boots`);
    fact('total', `${r.totalMs} ms`);
    fact('commit', `${r.commit.slice(0, 8)}${r.dirty ? ' (dirty tree)' : ''}`);
    fact('started', r.startedAt);
    if (r.boots.some((b) => b.timedOut))
      fact(
        'timed out',
        perBoot((b) => (b.timedOut ? 'yes' : 'no')),
      );
  }

  const rows = assertions.map(({ a, boot }) =>
    h('tr', { className: current ? (a.ok ? 'assert-ok' : 'assert-fail') : 'assert-old' }, [
      h('td', current ? (a.ok ? '✓ pass' : '✗ fail') : a.ok ? 'was ok' : 'was failing'),
      h('td', a.kind),
      h('td', h('code', a.text)),
      h('td', h('a', { href: chapterHref(chapterPath, a.chapterLine) }, `line ${a.chapterLine}`)),
      h(
        'td',
        a.transcriptLine === undefined
          ? ''
          : h('a', { href: `#${transcriptId(view.name, boot, a.transcriptLine)}` }, boot === 1 ? `#${a.transcriptLine}` : `boot ${boot} #${a.transcriptLine}`),
      ),
      h('td', a.detail ?? ''),
    ]),
  );
  const table = rows.length
    ? h('table.smoke-assertions', [
        h(
          'thead',
          h(
            'tr',
            ['', 'kind', 'expectation', 'chapter', 'transcript', 'detail'].map((c) => h('th', c)),
          ),
        ),
        h('tbody', rows),
      ])
    : undefined;

  const transcript = (label: string, boot: number, lines: string[]) =>
    h('details.smoke-transcript', [
      h('summary', `${label} (${lines.length} lines)`),
      h('pre', h('code', joinLines(lines.map((l, i) => h('span.tline', { id: transcriptId(view.name, boot, i + 1), dataN: String(i + 1) }, l))))),
    ]);

  const header = h('header', [
    stateBadge(view.state),
    ' smoke ',
    h('code.smoke-name', view.name),
    ...(view.spec ? [' · manifest ', h('a', { href: tangledHref(view.spec.manifest) }, h('code', view.spec.manifest))] : []),
  ]);
  const children: ElementContent[] = [header, h('p.smoke-reason', view.reason), spec];
  if (r) {
    const old = current
      ? []
      : [h('p.smoke-old', 'The figures below are from the last run, made from different inputs; they prove nothing about the chapter as it is now.')];
    children.push(...old, h('dl.smoke-facts', facts));
    if (table) children.push(table);
    if (r.ledger?.length) children.push(ledgerPanel(r.ledger, r.boots.length));
    r.boots.forEach((b, i) => {
      const label = r.boots.length === 1 ? 'Serial transcript' : `Boot ${i + 1} transcript (${b.manifest})`;
      children.push(transcript(label, i + 1, b.transcript));
    });
  }
  return h(
    'section',
    { className: `smoke-panel state-${view.state}`, id: smokeAnchor(view.name), dataSmoke: view.name, dataState: view.state, dataFence: String(fenceLine) },
    children,
  );
}

/** Transcript lines are numbered from 1 (as AssertionResult.transcriptLine counts them); browsers open the
 * collapsed transcript when a link targets a line inside it. */
function transcriptId(smoke: string, boot: number, line: number): string {
  return `T-${smoke}-${boot === 1 ? '' : `${boot}-`}${line}`;
}
