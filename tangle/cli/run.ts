// npm run run -- <smoke name | manifest stem>: boot one manifest interactively (serial on this terminal), no
// assertions; the upstream rule is that run targets only start QEMU. Ctrl-C ends QEMU.
import { execa } from 'execa';
import { allSmokes, describeError, tangle } from '../build/book.js';
import { imagePath, imageStem, listManifests } from '../build/images.js';
import { buildAll } from '../build/plan.js';
import { setupProblem } from '../build/preflight.js';
import { decodeExit, QEMU, qemuArgs } from '../smoke/qemu.js';
import { KERNEL } from '../smoke/runner.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('--'));
const accel = args.includes('--kvm') ? 'kvm' : 'tcg';

async function main(): Promise<number> {
  const t = await tangle(root, console.log);
  const unset = await setupProblem(root, 'run');
  if (unset) { console.error(unset); return 1 }
  const smokes = allSmokes(t.book);
  const manifests = [...new Set([...(await listManifests(root)), ...smokes.map((s) => s.manifest)])];
  const smoke = smokes.find((s) => s.name === name || s.name === `run-${name}`);
  const bySmoke = smoke?.manifest;
  const manifest = bySmoke ?? manifests.find((m) => imageStem(m) === name || imageStem(m) === `system-${name}`);
  if (!name || !manifest) {
    console.error(`usage: npm run run -- <name> [--kvm]\n  smokes: ${smokes.map((s) => s.name).join(', ') || '(none)'}` +
      `\n  manifests: ${manifests.map(imageStem).join(', ') || '(none)'}`);
    return 2;
  }
  await buildAll(root, { manifests: [manifest], only: (s) => !s.startsWith('image ') || s === `image ${imageStem(manifest)}` });
  const qargs = qemuArgs({ kernel: KERNEL, initrd: imagePath(manifest), ...(smoke?.cpu ? { cpu: smoke.cpu } : {}) }, accel);
  console.log(`run: ${QEMU} ${qargs.join(' ')}\n`);
  const r = await execa(QEMU, qargs, { cwd: root, stdio: 'inherit', reject: false });
  const code = decodeExit(r.exitCode ?? null);
  console.log(`\nrun: QEMU exited with ${r.exitCode ?? r.signal}${code === null ? '' : ` (init's exit code ${code})`}`);
  return code ?? (r.exitCode ?? 1);
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`run failed: ${describeError(e)}`);
  process.exitCode = 1;
}
