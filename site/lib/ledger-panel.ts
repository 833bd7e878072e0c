// The authority ledger of a smoke's instances (appendix A.10) as a table under the smoke panel: per instance and
// boot, the grants it held, the authorities it used, those it was refused (with the errnos), and the grants it never
// touched, flagged as least-authority hints for its manifest.
import type { Element } from 'hast';
import { h } from 'hastscript';
import type { LedgerRecord } from '../../tangle/index.js';

/** What hastscript takes as children. */
type Child = Element | string;

const HINT = 'granted but never used in this run: a least-authority hint (chapter A.10)';

function capList(caps: readonly string[], cls: string, title?: string): Child[] {
  if (caps.length === 0) return [h('span.ledger-none', '—')];
  return caps.flatMap((c, i) => [...(i ? [' '] : []), h(`code.${cls}`, { dataCap: c, ...(title ? { title } : {}) }, c)]);
}

/** What each refused authority was refused with: `timer (NOSYS ×1)`. */
function refusals(r: LedgerRecord): Child[] {
  if (r.refused.length === 0) return [h('span.ledger-none', '—')];
  return r.refused.flatMap((cap, i) => {
    const why = r.calls.filter((c) => c.cap === cap && c.outcome === 'refused').map((c) => `${c.import} ${c.errno ?? ''} ×${c.count}`);
    return [...(i ? [' '] : []), h('code.ledger-refused', { dataCap: cap, title: why.join(', ') }, cap), h('span.ledger-why', ` (${why.join(', ')})`)];
  });
}

export function ledgerPanel(records: readonly LedgerRecord[], bootCount: number): Element {
  const rows = records.map((r) =>
    h(
      'tr',
      {
        className: r.unused.length ? 'ledger-row has-hints' : 'ledger-row',
        dataInstance: r.instance,
        dataService: r.service,
        dataBoot: String(r.boot + 1),
        dataGranted: r.granted.join(' '),
        dataUsed: r.used.join(' '),
        dataRefused: r.refused.join(' '),
        dataUnused: r.unused.join(' '),
      },
      [
        h('td', [h('code', r.instance), ` in ${r.service}`, bootCount > 1 ? ` (boot ${r.boot + 1})` : '']),
        h('td.ledger-granted', capList(r.granted, 'ledger-cap')),
        h('td.ledger-used', capList(r.used, 'ledger-cap')),
        h('td', refusals(r)),
        h(
          'td.ledger-unused-cell',
          r.unused.length ? [h('span.ledger-flag', { title: HINT }, '⚑ '), ...capList(r.unused, 'ledger-unused', HINT)] : [h('span.ledger-none', 'none')],
        ),
      ],
    ),
  );
  return h('details.smoke-ledger', { open: records.some((r) => r.unused.length > 0) }, [
    h('summary', `Authority ledger (${records.length} instance${records.length === 1 ? '' : 's'})`),
    h('table.ledger', [
      h(
        'thead',
        h(
          'tr',
          ['instance', 'granted', 'used', 'refused', 'unused grants'].map((c) => h('th', c)),
        ),
      ),
      h('tbody', rows),
    ]),
  ]);
}
