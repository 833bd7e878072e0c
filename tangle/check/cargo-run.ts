// One cargo command run from the repository root, its output passed through (and, for a tangled crate, rewritten
// through the tangle map so compiler messages name chapter lines). Shared by `npm run test:cargo` and `npm run clippy`.
import { execa } from 'execa';
import type { LineTranslator } from '../diag/remap.js';

export interface CargoRun {
  /** RUSTFLAGS for this run; absent means none (host builds), never the caller's */
  rustflags?: string;
  /** rewrite each line of cargo's JSON messages (cargoTranslator); cargo then runs with --message-format=json */
  translate?: LineTranslator;
  log?: (line: string) => void;
}

export async function runCargo(root: string, args: string[], options: CargoRun = {}): Promise<number> {
  const log = options.log ?? console.log;
  log(`cargo ${args.join(' ')}${options.rustflags ? `  (RUSTFLAGS=${options.rustflags})` : ''}`);
  const env = { ...process.env, RUSTFLAGS: options.rustflags };
  const translate = options.translate;
  if (!translate) {
    const r = await execa('nice', ['-n', '10', 'cargo', ...args], { cwd: root, stdio: 'inherit', reject: false, env, extendEnv: false });
    return r.exitCode ?? 1;
  }
  // before a `--`, which starts the arguments cargo passes on (clippy's `-D warnings`)
  const dashes = args.indexOf('--');
  const json = dashes < 0 ? [...args, '--message-format=json'] : [...args.slice(0, dashes), '--message-format=json', ...args.slice(dashes)];
  const child = execa('nice', ['-n', '10', 'cargo', ...json], { cwd: root, all: true, buffer: false, reject: false, env, extendEnv: false });
  let pending = '';
  const show = (raw: string) => {
    for (const l of translate(raw)) log(l);
  };
  child.all?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(show);
  });
  const r = await child;
  if (pending) show(pending);
  return r.exitCode ?? 1;
}
