// The smoke result file format (results/smoke/<name>.json): written by the smoke runner, read by the site
// and by `npm run stamp`. The validator is strict so a stale or hand-edited file fails loudly, naming the field.
import { createHash } from 'node:crypto';
import type { SmokeSpec, TangledFile } from '../parse/model.js';
import { smokeDependencies } from './inputs.js';
import type { LedgerCall, LedgerRecord } from './ledger.js';

export interface AssertionResult {
  kind: 'line' | 'unordered' | 'forbid' | 'exit' | 'differs' | 'timeout' | 'replay';
  text: string;
  chapterLine: number;
  ok: boolean;
  transcriptLine?: number;
  detail?: string;
}

export interface SmokeInputs {
  smoke: string;
  tangled: string;
  image: string;
}

/** One boot of a smoke: what it booted, what it printed, how it ended, and its own assertions (whose
 * `transcriptLine`s count this boot's transcript). */
export interface BootRecord {
  manifest: string;
  exitStatus: number | null;
  qemuStatus: number | null;
  timedOut: boolean;
  bootMs: number;
  transcript: string[];
  assertions: AssertionResult[];
  /** a replayed crash state (a `replay` boot, appendix A.7): which point of the recorded log it booted */
  replayPoint?: string;
}

export interface SmokeResult {
  schemaVersion: 2;
  name: string;
  chapter: string;
  chapterLine: number;
  manifest: string;
  ok: boolean;
  accelerator: 'tcg' | 'kvm';
  totalMs: number;
  /** one record per boot, in boot order (one for most smokes; two for `differs`; one per `boot:` section) */
  boots: BootRecord[];
  /** bytes of the disk the runner attached, when the smoke has `disk=` */
  diskBytes?: number;
  /** the authority ledger of every capos-wasm instance the boots ran (appendix A.10, tangle/smoke/ledger.ts);
   * absent in results recorded before the ledger existed */
  ledger?: LedgerRecord[];
  commit: string;
  dirty: boolean;
  startedAt: string;
  inputs: SmokeInputs;
  inputsHash: string;
}

export class SmokeResultError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    reason: string,
  ) {
    super(`${file}: ${field}: ${reason}`);
    this.name = 'SmokeResultError';
  }
}

const ASSERTION_KINDS = new Set(['line', 'unordered', 'forbid', 'exit', 'differs', 'timeout', 'replay']);

/** Every assertion of every boot, in boot order. */
export function allAssertions(r: SmokeResult): AssertionResult[] {
  return r.boots.flatMap((b) => b.assertions);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Small field readers: each throws SmokeResultError naming the file and the dotted field path.
function fieldReader(file: string) {
  const fail = (field: string, reason: string): never => {
    throw new SmokeResultError(file, field, reason);
  };
  return {
    fail,
    str(o: Obj, k: string, at: string): string {
      const v = o[k];
      return typeof v === 'string' ? v : fail(at + k, `expected a string, got ${describe(v)}`);
    },
    bool(o: Obj, k: string, at: string): boolean {
      const v = o[k];
      return typeof v === 'boolean' ? v : fail(at + k, `expected a boolean, got ${describe(v)}`);
    },
    num(o: Obj, k: string, at: string): number {
      const v = o[k];
      return typeof v === 'number' && Number.isFinite(v) ? v : fail(at + k, `expected a number, got ${describe(v)}`);
    },
    numOrNull(o: Obj, k: string, at: string): number | null {
      const v = o[k];
      if (v === null) return null;
      return typeof v === 'number' && Number.isFinite(v) ? v : fail(at + k, `expected a number or null, got ${describe(v)}`);
    },
    strList(o: Obj, k: string, at: string): string[] {
      const v = o[k];
      if (!Array.isArray(v)) return fail(at + k, `expected a list of strings, got ${describe(v)}`);
      v.forEach((s, i) => {
        if (typeof s !== 'string') fail(`${at}${k}[${i}]`, `expected a string, got ${describe(s)}`);
      });
      return v as string[];
    },
  };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (field missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'string' ? `the string ${JSON.stringify(v).slice(0, 40)}` : typeof v;
}

/** Checks every field of a parsed results file; returns it typed or throws naming `file` and the bad field. */
export function validateSmokeResult(json: unknown, file: string): SmokeResult {
  const r = fieldReader(file);
  if (!isObj(json)) return r.fail('(root)', `expected an object, got ${describe(json)}`);
  if (json.schemaVersion !== 2)
    r.fail('schemaVersion', `expected 2, got ${describe(json.schemaVersion)} (results from before the \`boots\` array: run the smoke again)`);
  const accelerator = r.str(json, 'accelerator', '');
  if (accelerator !== 'tcg' && accelerator !== 'kvm') r.fail('accelerator', `expected "tcg" or "kvm", got ${JSON.stringify(accelerator)}`);
  const assertionList = (raw: unknown, where: string): AssertionResult[] => {
    if (!Array.isArray(raw)) return r.fail(where, `expected a list, got ${describe(raw)}`);
    return raw.map((a, i) => {
      const at = `${where}[${i}].`;
      if (!isObj(a)) return r.fail(`${where}[${i}]`, `expected an object, got ${describe(a)}`);
      const kind = r.str(a, 'kind', at);
      if (!ASSERTION_KINDS.has(kind)) r.fail(`${at}kind`, `unknown kind ${JSON.stringify(kind)}`);
      const out: AssertionResult = {
        kind: kind as AssertionResult['kind'],
        text: r.str(a, 'text', at),
        chapterLine: r.num(a, 'chapterLine', at),
        ok: r.bool(a, 'ok', at),
      };
      if (a.transcriptLine !== undefined) out.transcriptLine = r.num(a, 'transcriptLine', at);
      if (a.detail !== undefined) out.detail = r.str(a, 'detail', at);
      return out;
    });
  };
  const rawBoots = json.boots;
  if (!Array.isArray(rawBoots) || rawBoots.length === 0) return r.fail('boots', `expected a non-empty list, got ${describe(rawBoots)}`);
  const boots: BootRecord[] = rawBoots.map((b, i) => {
    const at = `boots[${i}].`;
    if (!isObj(b)) return r.fail(`boots[${i}]`, `expected an object, got ${describe(b)}`);
    const record: BootRecord = {
      manifest: r.str(b, 'manifest', at),
      exitStatus: r.numOrNull(b, 'exitStatus', at),
      qemuStatus: r.numOrNull(b, 'qemuStatus', at),
      timedOut: r.bool(b, 'timedOut', at),
      bootMs: r.num(b, 'bootMs', at),
      transcript: r.strList(b, 'transcript', at),
      assertions: assertionList(b.assertions, `boots[${i}].assertions`),
    };
    if (b.replayPoint !== undefined) record.replayPoint = r.str(b, 'replayPoint', at);
    return record;
  });
  const inputsRaw = json.inputs;
  if (!isObj(inputsRaw)) return r.fail('inputs', `expected an object, got ${describe(inputsRaw)}`);
  const result: SmokeResult = {
    schemaVersion: 2,
    name: r.str(json, 'name', ''),
    chapter: r.str(json, 'chapter', ''),
    chapterLine: r.num(json, 'chapterLine', ''),
    manifest: r.str(json, 'manifest', ''),
    ok: r.bool(json, 'ok', ''),
    accelerator: accelerator as 'tcg' | 'kvm',
    totalMs: r.num(json, 'totalMs', ''),
    boots,
    commit: r.str(json, 'commit', ''),
    dirty: r.bool(json, 'dirty', ''),
    startedAt: r.str(json, 'startedAt', ''),
    inputs: {
      smoke: r.str(inputsRaw, 'smoke', 'inputs.'),
      tangled: r.str(inputsRaw, 'tangled', 'inputs.'),
      image: r.str(inputsRaw, 'image', 'inputs.'),
    },
    inputsHash: r.str(json, 'inputsHash', ''),
  };
  if (json.diskBytes !== undefined) result.diskBytes = r.num(json, 'diskBytes', '');
  if (json.ledger !== undefined) result.ledger = ledgerList(r, json.ledger, boots.length);
  const assertions = allAssertions(result);
  // ok and inputsHash are derived from other fields; a file where they disagree was edited by hand or truncated,
  // and trusting `ok` alone would let it show as passing.
  const allOk = assertions.every((a) => a.ok);
  if (result.ok !== allOk) r.fail('ok', `is ${result.ok}, but ${allOk ? 'every assertion passed' : 'an assertion failed'}`);
  if (result.inputsHash !== hashInputs(result.inputs)) r.fail('inputsHash', 'does not match the hash of `inputs`');
  return result;
}

const OUTCOMES: readonly LedgerCall['outcome'][] = ['answered', 'refused', 'faulted'];

function ledgerList(r: ReturnType<typeof fieldReader>, raw: unknown, bootCount: number): LedgerRecord[] {
  if (!Array.isArray(raw)) return r.fail('ledger', `expected a list, got ${describe(raw)}`);
  return raw.map((l, i) => {
    const at = `ledger[${i}].`;
    if (!isObj(l)) return r.fail(`ledger[${i}]`, `expected an object, got ${describe(l)}`);
    const boot = r.num(l, 'boot', at);
    if (!Number.isInteger(boot) || boot < 0 || boot >= bootCount) r.fail(`${at}boot`, `expected a boot index below ${bootCount}, got ${boot}`);
    const rawCalls = l.calls;
    if (!Array.isArray(rawCalls)) return r.fail(`${at}calls`, `expected a list, got ${describe(rawCalls)}`);
    const calls = rawCalls.map((c, j): LedgerCall => {
      const cat = `${at}calls[${j}].`;
      if (!isObj(c)) return r.fail(`${at}calls[${j}]`, `expected an object, got ${describe(c)}`);
      const outcome = OUTCOMES.find((o) => o === c.outcome) ?? r.fail(`${cat}outcome`, `expected one of ${OUTCOMES.join(', ')}, got ${describe(c.outcome)}`);
      const call: LedgerCall = { cap: r.str(c, 'cap', cat), import: r.str(c, 'import', cat), outcome, count: r.num(c, 'count', cat) };
      if (c.errno !== undefined) call.errno = r.str(c, 'errno', cat);
      if ((outcome === 'answered') !== (call.errno === undefined))
        r.fail(`${cat}errno`, `an ${outcome} call ${outcome === 'answered' ? 'has no' : 'needs an'} errno`);
      return call;
    });
    return {
      boot,
      service: r.str(l, 'service', at),
      instance: r.str(l, 'instance', at),
      granted: r.strList(l, 'granted', at),
      calls,
      used: r.strList(l, 'used', at),
      refused: r.strList(l, 'refused', at),
      unused: r.strList(l, 'unused', at),
    };
  });
}

export function sha256(...parts: (string | Uint8Array)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * The inputs a result was produced from. smoke = the smoke block's raw text; tangled = the tangled files this smoke's
 * boots depend on (tangle/smoke/inputs.ts: its manifests, the shared CUE, the sources of what its image embeds),
 * sorted by path (path and content, NUL-separated so concatenations cannot collide), so an edit elsewhere in the
 * book leaves the result fresh; image = kernel bytes + manifest.bin bytes (empty string when not known, e.g. on the
 * site which never sees build/). Front matter is not part of any of them, so writing a stamp never makes a result
 * stale.
 */
export function computeInputs(tangled: TangledFile[], smoke: SmokeSpec, imageBytes?: Uint8Array): SmokeInputs {
  const h = createHash('sha256');
  for (const f of smokeDependencies(tangled, smoke)) {
    h.update(f.path).update('\0').update(f.content).update('\0');
  }
  return {
    smoke: sha256(smoke.source),
    tangled: h.digest('hex'),
    image: imageBytes ? sha256(imageBytes) : '',
  };
}

/**
 * Which of a result's recorded inputs differ from the book as it is now, in words ("the smoke block", "the tangled
 * files", "the booted image"); empty when the result is current. The image is compared only when the caller could
 * read it (`now.image` non-empty): a site built without build/ still judges by the chapters, and a rebuilt kernel
 * (hand-written capos/, not tangled) makes results stale wherever the image is there to see. The site and
 * `npm run stamp` both decide staleness here.
 */
export function changedInputs(recorded: SmokeInputs, now: SmokeInputs): string[] {
  const changed: string[] = [];
  if (recorded.smoke !== now.smoke) changed.push('the smoke block');
  if (recorded.tangled !== now.tangled) changed.push('the tangled files it depends on');
  if (now.image !== '' && recorded.image !== now.image) changed.push('the booted image (kernel or manifest.bin)');
  return changed;
}

/** One hash over all three inputs (what a result is keyed by). */
export function hashInputs(inputs: SmokeInputs): string {
  return sha256(`smoke:${inputs.smoke}\ntangled:${inputs.tangled}\nimage:${inputs.image}\n`);
}
