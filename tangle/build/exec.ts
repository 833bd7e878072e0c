// Runs one external tool for a build step: niced (the machine's cores are shared), output teed to
// build/logs/<step>.log and echoed indented, and on failure an error carrying the command and the log's tail.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

export class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** remove these variables from the inherited environment (e.g. RUSTFLAGS for host builds) */
  unsetEnv?: string[];
  /** which output lines to echo live: all (default), none, or only those a filter keeps (e.g. cargo's status lines) */
  echo?: boolean | ((line: string) => boolean);
  /** turns each raw output line into the lines shown and logged: the tangle map's rewrite to chapter lines
   * (tangle/diag/remap.ts); default: as printed */
  translate?: (line: string) => string[];
}

export async function runTool(root: string, step: string, cmd: string, args: string[], opts: RunOptions): Promise<string> {
  await mkdir(join(root, 'build/logs'), { recursive: true });
  const logName = `build/logs/${step.replace(/[^A-Za-z0-9._-]/g, '_')}.log`;
  const log = createWriteStream(join(root, logName));
  const shown = [cmd, ...args].map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(' ');
  log.write(`$ ${shown}\n`);
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const k of opts.unsetEnv ?? []) env[k] = undefined;
  const tail: string[] = [];
  const errorLines: string[] = []; // from the first line starting with `error` on: the part of a failure worth showing
  const show = (l: string) => opts.echo === undefined || opts.echo === true || (typeof opts.echo === 'function' && opts.echo(l));
  const child = execa('nice', ['-n', '10', cmd, ...args], { cwd: opts.cwd, env, extendEnv: false, reject: false, stdin: 'ignore', all: true, buffer: false });
  let pending = '';
  child.all?.on('data', (chunk: Buffer) => {
    const s = chunk.toString('utf8');
    if (!opts.translate) log.write(s);
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) translate(l);
  });
  const translate = (raw: string) => {
    for (const l of opts.translate ? opts.translate(raw) : [raw]) keep(l);
  };
  const keep = (l: string) => {
    if (opts.translate) log.write(`${l}\n`);
    tail.push(l);
    if (tail.length > 40) tail.shift();
    if ((errorLines.length > 0 || isErrorLine(l)) && errorLines.length < 40) errorLines.push(l);
    if (show(l)) process.stdout.write(`    ${l}\n`);
  };
  const r = await child;
  if (pending) translate(pending);
  await new Promise<void>((res) => log.end(res));
  if (r.exitCode !== 0) {
    const why = r.exitCode === undefined ? (r.shortMessage ?? 'could not start') : `exit status ${r.exitCode}`;
    const excerpt = errorLines.length > 0 ? errorLines : tail.slice(-25);
    throw new StepError(step, `${step}: \`${shown}\` failed (${why}); full log: ${logName}\n${excerpt.map((l) => `  | ${l}`).join('\n')}`);
  }
  return tail.join('\n');
}

/** Where a failure's excerpt starts: rustc's and cargo's `error…` lines, and `file:line:col: error` from the others. */
export function isErrorLine(line: string): boolean {
  return /^error\b/.test(line) || /^\S+:\d+(?::\d+)?(?: \[[^\]]+\])?:\s*(?:fatal )?error\b/.test(line);
}

/** Cargo's progress lines (Compiling …, Finished …) and errors; warnings stay in the log. */
export function cargoStatusLine(line: string): boolean {
  return /^\s*(Compiling|Finished|Downloaded|Downloading|Updating|Locking|Adding|Checking)\b/.test(line) || /^error\b/.test(line);
}
