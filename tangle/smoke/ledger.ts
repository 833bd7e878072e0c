// The authority ledger (appendix A.10): capos-wasm prints, after each instance's report line, a few lines
// `[<service>] ledger <instance> grants|cap|unused …`. This module parses them out of a boot's transcript into typed
// records (stored as the `ledger` field of a smoke's results file) and derives what each instance used, was refused
// and never touched. A line that does not have the exact shape is not a ledger line and is skipped.

export type LedgerOutcome = 'answered' | 'refused' | 'faulted';

/** N calls of one import, counted against one authority, that ended the same way. */
export interface LedgerCall {
  cap: string;
  import: string;
  outcome: LedgerOutcome;
  /** the witx errno name (`NOSYS`, `BADF`, …) of a refused call; `FAULT` for a faulted one */
  errno?: string;
  count: number;
}

/** One instance's ledger in one boot. */
export interface LedgerRecord {
  /** 0-based index into the result's `boots` */
  boot: number;
  service: string;
  instance: string;
  /** what the instance held when it started, sorted */
  granted: string[];
  calls: LedgerCall[];
  /** authorities with at least one answered call */
  used: string[];
  /** authorities with at least one refused call (faults are the guest's own and not counted here) */
  refused: string[];
  /** granted authorities that no call touched: the least-authority hints */
  unused: string[];
}

// `[service] ledger <instance> <kind> <rest>`: instance names are W.3's, 1 to 32 bytes of [A-Za-z0-9._-].
const LINE = /^\[([^\]\s]+)\] ledger ([A-Za-z0-9._-]{1,32}) (grants|cap|unused) (\S+(?: \S+)*)$/;
const ENTRY = /^([a-z_]+)(?:!([A-Z]+))?=([1-9][0-9]*)$/;
const AUTHORITY = /^\S+$/;

/** The ledger records of one boot's transcript, in the order their `grants` lines appear. */
export function parseLedger(transcript: readonly string[], boot = 0): LedgerRecord[] {
  const open = new Map<string, LedgerRecord>();
  const done: LedgerRecord[] = [];
  for (const raw of transcript) {
    const m = LINE.exec(raw.replace(/\s+$/, ''));
    if (!m) continue;
    const [, service = '', instance = '', kind, rest = ''] = m;
    const key = `${service}\0${instance}`;
    const words = rest.split(' ');
    if (kind === 'grants') {
      const granted = words.length === 1 && words[0] === '-' ? [] : words;
      const record: LedgerRecord = { boot, service, instance, granted, calls: [], used: [], refused: [], unused: [] };
      open.set(key, record);
      done.push(record);
      continue;
    }
    const current = open.get(key);
    // A cap line without its grants line is not a ledger. The adapter's own `unused` line says what the counts
    // already say; `derive` computes it from them, so the two cannot disagree in a results file.
    if (!current || kind === 'unused') continue;
    const [cap = '', ...entries] = words;
    const calls = entries.map((e) => ENTRY.exec(e));
    if (!AUTHORITY.test(cap) || entries.length === 0 || calls.some((c) => c === null)) continue;
    for (const c of calls) {
      if (!c) continue;
      const [, name = '', errno, count = '0'] = c;
      const outcome: LedgerOutcome = errno === undefined ? 'answered' : errno === 'FAULT' ? 'faulted' : 'refused';
      current.calls.push({ cap, import: name, outcome, ...(errno === undefined ? {} : { errno }), count: Number(count) });
    }
  }
  return done.map(derive);
}

function derive(record: LedgerRecord): LedgerRecord {
  const caps = (pick: (c: LedgerCall) => boolean) => [...new Set(record.calls.filter(pick).map((c) => c.cap))].sort();
  const touched = new Set(record.calls.map((c) => c.cap));
  const unused = record.granted.filter((g) => !touched.has(g));
  return { ...record, used: caps((c) => c.outcome === 'answered'), refused: caps((c) => c.outcome === 'refused'), unused };
}

/** Every boot's ledger records, in boot order. */
export function ledgerOfBoots(boots: readonly { transcript: readonly string[] }[]): LedgerRecord[] {
  return boots.flatMap((b, i) => parseLedger(b.transcript, i));
}
