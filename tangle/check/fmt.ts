// `npm run fmt [-- --check]`: every formatter of the repository, writing or (with --check) only reporting. capos/ is
// hand-written, so cargo fmt formats it in place (its workspace and the fuzz workspace beside it); the tangled Rust is
// formatted through the chapters (rustfmt-chapters.ts), never in the tangled files. Both read rustfmt.toml at the root.
// Biome formats and lints the TypeScript of tangle/ and site/ (biome.jsonc); with --check it only reports.
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { join } from 'node:path';
import { analyseChapters } from '../parse/load-book.js';
import { runTangle } from '../tangle/run.js';
import { runCargo } from './cargo-run.js';
import { applyPlan, planRustfmt, rustfmt, type Formatter } from './rustfmt-chapters.js';

/** The hand-written workspaces: capos/ is virtual, so `--all` (its path dependencies are its own members); the fuzz
 * workspace without it, since its path dependencies are capos/'s crates, formatted above. */
const CAPOS_WORKSPACES: [string, string[]][] = [
  ['capos/Cargo.toml', ['--all']],
  ['capos/fuzz/Cargo.toml', []],
];

export interface FmtOptions {
  check: boolean;
  log?: (line: string) => void;
  format?: Formatter;
  workspaces?: [string, string[]][];
  /** run Biome on the TypeScript too (default true) */
  biome?: boolean;
}

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
      log(
        `fmt: tangled Rust: ${plan.changedFiles.length} file${plan.changedFiles.length === 1 ? '' : 's'} not rustfmt-clean${plan.changedFiles.length ? `: ${plan.changedFiles.join(', ')}` : ''}`,
      );
      return plan.changedFiles.length > 0 ? 1 : 0;
    }
    if (plan.edits.length === 0) {
      if (plan.changedFiles.length > 0 || plan.problems.length > 0) {
        log(`fmt: tangled Rust: ${plan.problems.length} change(s) to make by hand in the chapters`);
        return 1;
      }
      log('fmt: tangled Rust is rustfmt-clean');
      return await runTangle(root, { log: () => {} });
    }
    const changed = await applyPlan(root, plan.edits);
    log(`fmt: round ${round}: ${plan.edits.length} edit(s) in ${changed.join(', ')}`);
  }
  log('fmt: rustfmt still changes the tangled Rust after 4 rounds');
  return 1;
}

/** What Biome formats and lints (biome.jsonc narrows it to TypeScript); named, so it never walks build/ or vendor/. */
export const BIOME_PATHS = ['tangle', 'site', 'astro.config.mjs', 'vitest.config.ts'];

/** `biome check` (formatter and linter) over `paths`; with write, its formatting and safe fixes applied. */
export async function runBiome(root: string, check: boolean, log: (line: string) => void, paths = BIOME_PATHS): Promise<number> {
  const args = ['check', ...(check ? [] : ['--write']), ...paths.filter((p) => existsSync(join(root, p)))];
  log(`biome ${args.join(' ')}`);
  const r = await execa(join(root, 'node_modules/.bin/biome'), args, { cwd: root, reject: false, all: true });
  for (const line of r.all.split('\n')) log(line);
  if (r.exitCode !== 0)
    log(
      `fmt: biome: ${check ? 'TypeScript not formatted or lint findings (above); npm run fmt formats and applies the safe fixes' : 'findings left to fix by hand (above)'}`,
    );
  return r.exitCode ?? 1;
}

/** Every formatter (cargo fmt on capos/, the chapters' Rust, Biome); the first failure's status, after running them all. */
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
  if (options.biome !== false) statuses.push(await runBiome(root, options.check, log));
  return statuses.find((s) => s !== 0) ?? 0;
}
