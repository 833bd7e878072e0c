// A copy of this work tree in a temporary directory, as a contributor's clone looks after `npm run setup` and a build:
// the files git sees (tracked and untracked, not ignored), the set-up's shared parts linked (node_modules, vendored
// crates, the tools and the venv, which the watch only reads), and the build's state: every step's stamp and the
// outputs it records, copied, so a step whose inputs did not change is up to date there as it is here. The tangled
// files come along (the watch's first tangle then writes none of them).
import { cp, mkdir, mkdtemp, readdir, readFile, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { STAMP_DIR } from '../../build/stamp.js';

const LINKED = ['node_modules', 'vendor', 'build/tools', 'build/venv'];
const COPIED = ['.cargo'];

async function present(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function scratchClone(root: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'watch-clone-'));
  const listed = (await execa('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root })).stdout.split('\0').filter(Boolean);
  for (const file of listed) {
    if (!(await present(path.join(root, file)))) continue; // deleted in the work tree, not yet committed
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await cp(path.join(root, file), path.join(dir, file), { preserveTimestamps: true });
  }
  for (const p of LINKED) {
    if (!(await present(path.join(root, p)))) continue;
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await symlink(path.join(root, p), path.join(dir, p));
  }
  for (const p of COPIED) if (await present(path.join(root, p))) await cp(path.join(root, p), path.join(dir, p), { recursive: true });
  // the ignored files in the folders the tangler writes: the tangled files and what tools wrote beside them (the
  // Cargo.lock files cargo resolved, the go.sum of the set-up's `go mod tidy`), all inputs of build steps
  const map: unknown = JSON.parse(await readFile(path.join(root, 'build/tangle-map.json'), 'utf8'));
  const tops = [...new Set(Object.keys(typeof map === 'object' && map !== null ? map : {}).map((p) => p.split('/')[0]!))];
  const beside = (await execa('git', ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--', ...tops], { cwd: root })).stdout
    .split('\0')
    .filter(Boolean);
  for (const file of beside) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await cp(path.join(root, file), path.join(dir, file), { preserveTimestamps: true });
  }
  const stamps = path.join(root, STAMP_DIR);
  for (const name of await readdir(stamps).catch(() => [])) {
    await cp(path.join(stamps, name), path.join(dir, STAMP_DIR, name));
    if (!name.endsWith('.json')) continue; // a step's own record beside its stamp
    const stamp: unknown = JSON.parse(await readFile(path.join(stamps, name), 'utf8'));
    const outputs = typeof stamp === 'object' && stamp !== null && 'outputs' in stamp && Array.isArray(stamp.outputs) ? stamp.outputs : [];
    for (const out of outputs.filter((o): o is string => typeof o === 'string')) {
      if (await present(path.join(dir, out))) continue;
      if (await present(path.join(root, out))) await cp(path.join(root, out), path.join(dir, out), { recursive: true, preserveTimestamps: true });
    }
  }
  return dir;
}
