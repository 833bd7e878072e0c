// npm run run -- <smoke name | manifest stem>: boot one manifest interactively (serial on this terminal), no
// assertions; the upstream rule is that run targets only start QEMU. Ctrl-C ends QEMU. `--list` prints the make
// targets the chapters' smokes give (the Makefile's `make help`).
import { join } from 'node:path';
import { execa } from 'execa';
import { allSmokes, describeError, tangle } from '../build/book.js';
import { imagePath, imageStem, listManifests } from '../build/images.js';
import { buildAll } from '../build/plan.js';
import { setupProblem } from '../build/preflight.js';
import { decodeExit, QEMU, qemuArgs } from '../smoke/qemu.js';
import { createDisk, diskPath, imageFor, KERNEL } from '../smoke/runner.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const args = process.argv.slice(2);
const name = args.find((a) => !a.startsWith('--'));
const accel = args.includes('--kvm') ? 'kvm' : 'tcg';

/** `make help`: one line per target, `make run-<smoke>` for every smoke of the book, then the whole harness. */
/** The plan's validation commands that are make targets (the Makefile; chapter A.2, "The plan's commands"). */
export const CHECK_TARGETS: [string, string][] = [
  ['fmt-check', 'every formatter in check mode (npm run fmt -- --check)'],
  ['generated-code-check', 'schema ids and ordinals as pinned, tangled tree as the chapters (npm run generated-code-check)'],
  ['capos-rt-check', "capos-rt's host tests and clippy"],
  ['clippy', 'cargo clippy, warnings denied, on capos/ and capos-wasm, host and capOS (npm run clippy)'],
];

export function makeTargets(smokes: readonly { name: string; chapter: string }[]): string[] {
  const w = Math.max(0, ...smokes.map((s) => s.name.length)) + 5;
  return [
    ...smokes.map((s) => `make ${s.name.padEnd(w)} boot it, no assertions (${s.chapter})`),
    `make ${'run-smoke'.padEnd(w)} every smoke, with assertions (npm run smoke)`,
    ...CHECK_TARGETS.map(([t, does]) => `make ${t.padEnd(w)} ${does}`),
  ];
}

async function main(): Promise<number> {
  const t = await tangle(root, args.includes('--list') ? () => {} : console.log);
  if (args.includes('--list')) {
    console.log(makeTargets(allSmokes(t.book)).join('\n'));
    return 0;
  }
  const unset = await setupProblem(root, 'run');
  if (unset) {
    console.error(unset);
    return 1;
  }
  const smokes = allSmokes(t.book);
  const manifests = [...new Set([...(await listManifests(root)), ...smokes.map((s) => s.manifest)])];
  const smoke = smokes.find((s) => s.name === name || s.name === `run-${name}`);
  const bySmoke = smoke?.manifest;
  const manifest = bySmoke ?? manifests.find((m) => imageStem(m) === name || imageStem(m) === `system-${name}`);
  if (!name || !manifest) {
    console.error(
      `usage: npm run run -- <name> [--kvm]\n  smokes: ${smokes.map((s) => s.name).join(', ') || '(none)'}` +
        `\n  manifests: ${manifests.map(imageStem).join(', ') || '(none)'}`,
    );
    return 2;
  }
  await buildAll(root, { manifests: [manifest], only: (s) => !s.startsWith('image ') || s === `image ${imageStem(manifest)}` });
  // A smoke that names a disk gets a fresh one, as under `npm run smoke` (its first boot's view; appendix A.6).
  const disk = smoke?.disk ? diskPath(smoke.name) : undefined;
  if (smoke?.disk && disk) await createDisk(join(root, disk), smoke.disk.bytes);
  const image = smoke && smoke.manifest === manifest ? imageFor(smoke, undefined, disk) : { kernel: KERNEL, initrd: imagePath(manifest) };
  const qargs = qemuArgs(image, accel);
  console.log(`run: ${QEMU} ${qargs.join(' ')}\n`);
  const r = await execa(QEMU, qargs, { cwd: root, stdio: 'inherit', reject: false });
  const code = decodeExit(r.exitCode ?? null);
  console.log(`\nrun: QEMU exited with ${r.exitCode ?? r.signal}${code === null ? '' : ` (init's exit code ${code})`}`);
  return code ?? r.exitCode ?? 1;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`run failed: ${describeError(e)}`);
  process.exitCode = 1;
}
