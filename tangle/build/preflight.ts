// Before a build: is this clone set up? A fresh clone has no cue in build/tools, no vendored crates and no go.sum
// for the Go demos, and the build would fail deep inside a step on the first of them. The commands that build
// (`npm run build`, `npm run smoke`, `npm run run`) check here first and stop at once with one line naming what is
// missing and the command that provides it: `npm run setup` (tangle/setup/setup.sh), which is idempotent.
import { access, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Programs setup installs (Debian packages) that the build and the smokes run. */
export const SETUP_COMMANDS = ['qemu-system-x86_64', 'clang-14', 'wat2wasm', 'cargo'];

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function onPath(command: string, path: string): Promise<boolean> {
  for (const dir of path.split(delimiter).filter((d) => d !== '')) if (await executable(join(dir, command))) return true;
  return false;
}

/** What setup would provide that `root` lacks, each named as the user would look for it; empty when set up. */
export async function missingSetup(root: string, path = process.env.PATH ?? ''): Promise<string[]> {
  const missing: string[] = [];
  if (!(await executable(join(root, 'build/tools/cue')))) missing.push('build/tools/cue');
  if (
    !(await access(join(root, '.cargo/config.toml')).then(
      () => true,
      () => false,
    ))
  )
    missing.push('.cargo/config.toml (vendored crates)');
  for (const command of SETUP_COMMANDS) if (!(await onPath(command, path))) missing.push(command);
  const demos = await readdir(join(root, 'demos'), { withFileTypes: true }).catch(() => []);
  for (const demo of demos.filter((d) => d.isDirectory())) {
    const files = await readdir(join(root, 'demos', demo.name));
    if (files.includes('go.mod') && !files.includes('go.sum')) missing.push(`demos/${demo.name}/go.sum`);
  }
  return missing;
}

/** The one line a command prints when the clone is not set up, or undefined when it is. */
export async function setupProblem(root: string, command: string, path?: string): Promise<string | undefined> {
  const missing = await missingSetup(root, path);
  if (missing.length === 0) return undefined;
  return `${command}: this clone is not set up (missing ${missing.join(', ')}); run \`npm run setup\` first`;
}
