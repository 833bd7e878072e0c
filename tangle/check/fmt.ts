// `npm run fmt [-- --check]`: every formatter of the repository, writing or (with --check) only reporting. capos/ is
// hand-written, so cargo fmt formats it in place (its workspace and the fuzz workspace beside it); the tangled Rust is
// formatted through the chapters (rustfmt-chapters.ts), never in the tangled files. Both read rustfmt.toml at the root.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { analyseChapters } from '../parse/load-book.js';
import { runTangle } from '../tangle/run.js';
import { runCargo } from './cargo-run.js';
import { applyPlan, planRustfmt, rustfmt, type Formatter } from './rustfmt-chapters.js';

/** The hand-written workspaces: capos/ is virtual, so `--all` (its path dependencies are its own members); the fuzz
 * workspace without it, since its path dependencies are capos/'s crates, formatted above. */
const CAPOS_WORKSPACES: [string, string[]][] = [['capos/Cargo.toml', ['--all']], ['capos/fuzz/Cargo.toml', []]];

export interface FmtOptions { check: boolean; log?: (line: string) => void; format?: Formatter; workspaces?: [string, string[]][] }

/** The chapters' Rust: checked, or formatted until rustfmt changes nothing more. Returns the exit status. */
export async function fmtChapters(root: string, options: FmtOptions): Promise<number> {
  const log = options.log ?? console.log;
  const format = options.format ?? rustfmt(root);
  for (let round = 1; round <= 4; round++) {
    const { book, files } = await analyseChapters(root);
    const sources = new Map(book.chapters.map((c) => [c.path, c.source.split('\n')]));
    const plan = await planRustfmt(files, (chapter) => sources.get(chapter) ?? [], format);
    for (const p of plan.problems) log(`${p.chapter}:${p.line} [${p.path}:${p.generatedLine}]: ${p.reason}`);
    if (options.check) {
      for (const e of plan.edits) log(`${e.chapter}:${e.line}: not formatted as rustfmt would; run npm run fmt`);
      log(`fmt: tangled Rust: ${plan.changedFiles.length} file${plan.changedFiles.length === 1 ? '' : 's'} not rustfmt-clean${plan.changedFiles.length ? `: ${plan.changedFiles.join(', ')}` : ''}`);
      return plan.changedFiles.length > 0 ? 1 : 0;
    }
    if (plan.edits.length === 0) {
      if (plan.changedFiles.length > 0 || plan.problems.length > 0) { log(`fmt: tangled Rust: ${plan.problems.length} change(s) to make by hand in the chapters`); return 1 }
      log('fmt: tangled Rust is rustfmt-clean');
      return await runTangle(root, { log: () => {} });
    }
    const changed = await applyPlan(root, plan.edits);
    log(`fmt: round ${round}: ${plan.edits.length} edit(s) in ${changed.join(', ')}`);
  }
  log('fmt: rustfmt still changes the tangled Rust after 4 rounds');
  return 1;
}

/** Every formatter (cargo fmt on capos/, the chapters' Rust); the first failure's status, after running them all. */
export async function runFmt(root: string, options: FmtOptions): Promise<number> {
  const log = options.log ?? console.log;
  const statuses: number[] = [];
  for (const [manifest, flags] of options.workspaces ?? CAPOS_WORKSPACES) {
    if (!existsSync(join(root, manifest))) continue;
    const status = await runCargo(root, ['fmt', '--manifest-path', manifest, ...flags, ...(options.check ? ['--check'] : [])], { log });
    if (status !== 0 && options.check) log(`fmt: ${manifest}: not rustfmt-clean (the diff above); run npm run fmt`);
    statuses.push(status);
  }
  statuses.push(await fmtChapters(root, options));
  return statuses.find((s) => s !== 0) ?? 0;
}
