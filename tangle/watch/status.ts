// What `npm run watch` tells the terminal and the dev server's banner about its latest cycle, as a small JSON file
// (build/watch/status.json). Written whole through a temporary file and a rename, so a reader never sees half of it.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export const STATUS_FILE = 'build/watch/status.json';

/** One place in the book and what went wrong there, as the terminal prints it (`chapters/x.md:12:3`). */
export interface WatchProblem {
  where: string;
  message: string;
}

/** One smoke the cycle ran: its outcome and, when it failed, the failure lines `npm run smoke` prints. */
export interface WatchSmoke {
  name: string;
  where: string;
  ok: boolean;
  failures: string[];
}

export const WATCH_STATES = ['running', 'passed', 'failed'] as const;
export type WatchState = (typeof WATCH_STATES)[number];
export const WATCH_STEPS = ['tangle', 'build', 'smoke', 'done'] as const;
export type WatchStep = (typeof WATCH_STEPS)[number];

export interface WatchStatus {
  /** counts cycles; a new value means a new cycle began or ended */
  generation: number;
  state: WatchState;
  /** the step a running cycle is in, or the step a failed one stopped at */
  step: WatchStep;
  /** the chapters whose change started the cycle (repo-relative) */
  changed: string[];
  startedAt: string;
  finishedAt?: string;
  /** one line for the terminal and the banner */
  summary: string;
  problems: WatchProblem[];
  smokes: WatchSmoke[];
}

export async function writeStatus(root: string, status: WatchStatus): Promise<void> {
  const file = join(root, STATUS_FILE);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(status, null, 2)}\n`);
  await rename(tmp, file);
}

const isState = (v: unknown): v is WatchState => WATCH_STATES.some((s) => s === v);
const isStep = (v: unknown): v is WatchStep => WATCH_STEPS.some((s) => s === v);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isProblem = (p: unknown): p is WatchProblem => isObject(p) && typeof p.where === 'string' && typeof p.message === 'string';
const isSmoke = (x: unknown): x is WatchSmoke =>
  isObject(x) && typeof x.name === 'string' && typeof x.where === 'string' && typeof x.ok === 'boolean' && strings(x.failures);

/** Checks a parsed status file field by field; undefined when it is not one (a reader then shows nothing). */
export function parseStatus(json: unknown): WatchStatus | undefined {
  if (!isObject(json)) return undefined;
  const { generation, state, step, changed, startedAt, finishedAt, summary, problems, smokes } = json;
  if (typeof generation !== 'number' || !isState(state) || !isStep(step)) return undefined;
  if (!strings(changed) || typeof startedAt !== 'string' || typeof summary !== 'string' || (finishedAt !== undefined && typeof finishedAt !== 'string'))
    return undefined;
  if (!Array.isArray(problems) || !problems.every(isProblem) || !Array.isArray(smokes) || !smokes.every(isSmoke)) return undefined;
  return {
    generation,
    state,
    step,
    changed,
    startedAt,
    ...(finishedAt ? { finishedAt } : {}),
    summary,
    problems: problems.map(({ where, message }) => ({ where, message })),
    smokes: smokes.map(({ name, where, ok, failures }) => ({ name, where, ok, failures })),
  };
}

/** The latest status, or undefined when no watch has written one or the file is not a status. */
export async function readStatus(file: string): Promise<WatchStatus | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return parseStatus(JSON.parse(text));
  } catch {
    return undefined;
  }
}
