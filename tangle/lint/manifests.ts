// The manifest lint (appendix A.10): from the authority ledgers in the latest smoke results, every grant an instance
// held and never touched, in any run of its manifest, is a least-authority hint at the chapter line of a smoke that
// showed it. A grant that one run used and another did not is needed, so it is no hint.
import type { LedgerRecord } from '../smoke/ledger.js';
import type { SmokeResult } from '../smoke/result.js';

export interface GrantHint {
  chapter: string;
  chapterLine: number;
  smoke: string;
  manifest: string;
  service: string;
  instance: string;
  /** the unused grants, sorted */
  caps: string[];
}

/** The manifest field an authority comes from (a table instance's `caps`; W.6's sockets are a service grant). */
export function grantField(cap: string): string {
  if (cap.startsWith('dir:')) return `caps.preopens."${decodeURIComponent(cap.slice(4))}"`;
  if (cap.startsWith('socket:')) return 'grants.sockets';
  return `caps.${cap}`;
}

interface Seen {
  first: { result: SmokeResult; record: LedgerRecord };
  manifest: string;
  unusedEverywhere: Set<string>;
}

/** One hint per manifest, service and instance that left grants unused in every boot, in results order. */
export function unusedGrants(results: readonly SmokeResult[]): GrantHint[] {
  const seen = new Map<string, Seen>();
  for (const result of results) {
    for (const record of result.ledger ?? []) {
      const manifest = result.boots[record.boot]?.manifest ?? result.manifest;
      const key = `${manifest}\0${record.service}\0${record.instance}`;
      const entry = seen.get(key);
      if (!entry) {
        seen.set(key, { first: { result, record }, manifest, unusedEverywhere: new Set(record.unused) });
        continue;
      }
      for (const cap of [...entry.unusedEverywhere]) if (!record.unused.includes(cap)) entry.unusedEverywhere.delete(cap);
    }
  }
  return [...seen.values()].flatMap(({ first: { result, record }, manifest, unusedEverywhere }) => {
    const caps = record.unused.filter((cap) => unusedEverywhere.has(cap)).sort();
    return caps.length === 0
      ? []
      : [
          {
            chapter: result.chapter,
            chapterLine: result.chapterLine,
            smoke: result.name,
            manifest,
            service: record.service,
            instance: record.instance,
            caps,
          },
        ];
  });
}

export function formatHint(h: GrantHint): string {
  const grants = h.caps.map((cap) => `${cap} (${grantField(cap)})`).join(', ');
  const it = h.caps.length === 1 ? 'it' : 'them';
  return `${h.chapter}:${h.chapterLine}: ${h.smoke}: instance ${h.instance} of ${h.service} (${h.manifest}) was granted ${grants} and never used ${it}. Fix: drop ${h.caps.length === 1 ? 'the grant' : 'each'} if no run needs it. [unused-grant]`;
}
