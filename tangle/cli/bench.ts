// npm run bench [-- name …] [--runs N]: boot each benchmark manifest (manifests/system-bench-*.cue) N times under the
// chosen accelerator, collect the `bench <metric> <value> <unit>` lines its services print, and report medians.
// Writes results/bench/<manifest stem>.json. `compare` runs only chapter A.4's comparisons, `guest` only the Linux-guest
// comparison (without the qemu-user column), `site` only the site budget; `snapshot DIR` and `ab DIR_A DIR_B` are the
// A/B runs for kernel work (tangle/bench/ab.ts); `profile` boots the round-trip systems with the tsc-profile kernel.
// `files` runs only chapter 16's file throughput; `net` only chapter W.6's HTTP burst (capOS and wasmi_cli); `store`
// only appendix A.7's store against ext4 in the Linux guest.
// Not part of `npm test`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, tangle } from '../build/book.js';
import { imagePath, imageStem, listManifests } from '../build/images.js';
import { buildAll } from '../build/plan.js';
import { writeAtomic } from '../build/stamp.js';
import { parseFigures, summarize, type Figure } from '../bench/figures.js';
import { chooseAccelerator } from '../smoke/accel.js';
import { isComparisonManifest, runComparisons, runGuestComparison } from '../bench/compare.js';
import { benchCue, formatCue } from '../bench/cue.js';
import { benchSite, formatSiteBench } from '../bench/site.js';
import { benchFiles } from '../bench/files.js';
import { benchNet } from '../bench/net.js';
import { buildNative } from '../bench/native.js';
import { runStoreBench, STORE_MANIFEST } from '../bench/store.js';
import { makeReport, reportKind, writeReport } from '../bench/report.js';
import { formatAb, runAb, snapshot, snapshotBuild } from '../bench/ab.js';
import { runProfile } from '../bench/profile.js';
import { gitState } from '../smoke/git.js';
import { boot } from '../smoke/qemu.js';
import { createDisk, KERNEL } from '../smoke/runner.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 5;
const names = args.filter((a, i) => !a.startsWith('--') && !(runsAt >= 0 && i === runsAt + 1));

/** The scratch disk a device benchmark gets: 64 MiB of zeros, sparse, new for every boot. */
const BENCH_DISK_BYTES = 64 << 20;

async function main(): Promise<number> {
  if (!Number.isInteger(runs) || runs < 1) {
    console.error(`bench: --runs needs a whole number of boots of at least 1, got ${JSON.stringify(args[runsAt + 1] ?? '')}`);
    return 2;
  }
  await tangle(root, console.log);
  if (names.includes('compare')) return runComparisons(root, { build: true }); // chapter A.4's comparisons only
  if (names.includes('site')) return siteBudget();
  if (names.includes('files')) {
    // chapter 16's file throughput only
    await buildAll(root, {});
    return benchFiles(root, runsAt >= 0 ? runs : 3, console.log);
  }
  if (names.includes('net')) {
    // chapter W.6's HTTP burst against wasmi_cli only
    await buildAll(root, {});
    return benchNet(root, console.log);
  }
  if (names.includes('store')) return storeBench(runsAt >= 0 ? runs : 3); // appendix A.7's store against ext4
  if (names.includes('guest')) return runGuestComparison(root, { build: true, runs }); // issue 23's Linux guest only
  if (names[0] === 'snapshot' && names[1]) {
    await buildAll(root, {});
    await snapshot(root, names[1]);
    return 0;
  }
  if (names[0] === 'ab' && names.length >= 3) return abRun(names.slice(1));
  if (names[0] === 'profile') return profileRun();
  const all = (await listManifests(root)).filter((m) => imageStem(m).startsWith('system-bench-') && !isComparisonManifest(m) && m !== STORE_MANIFEST);
  const selected = names.length ? all.filter((m) => names.includes(imageStem(m)) || names.includes(imageStem(m).slice(7))) : all;
  if (selected.length === 0) {
    console.log(`bench: no benchmark manifests${names.length ? ` named ${names.join(', ')}` : ''} (manifests/system-bench-*.cue); nothing to measure yet`);
    return names.length ? 2 : 0;
  }
  await buildAll(root, {});
  // A benchmark manifest that lists `devices` gets a fresh scratch disk for each boot (appendix A.6).
  const disks = await Promise.all(
    selected.map(async (m) => (/^\s*devices\s*:/m.test(await readFile(join(root, m), 'utf8')) ? `build/disks/${imageStem(m)}.img` : undefined)),
  );
  const images = selected.map((m, i) => ({ kernel: KERNEL, initrd: imagePath(m), ...(disks[i] ? { disk: disks[i] } : {}) }));
  const accel = await chooseAccelerator(images[0]!, root);
  console.log(`bench: accelerator ${accel.accel} (${accel.reason}); ${runs} boots each`);
  const git = await gitState(root);
  let failed = 0;
  for (const [i, m] of selected.entries()) {
    const figures: Figure[] = [];
    const bootMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      if (disks[i]) await createDisk(join(root, disks[i]), BENCH_DISK_BYTES);
      const out = await boot(images[i]!, { accel: accel.accel, timeoutMs: 300_000, cwd: root });
      if (out.timedOut || out.exitStatus !== 0) {
        console.log(
          `  ${imageStem(m)}: boot ${r + 1} failed (${out.timedOut ? 'timeout' : `exit ${out.exitStatus ?? `qemu ${out.qemuStatus}`}`}); last lines:\n` +
            out.transcript
              .slice(-8)
              .map((l) => `    ${l}`)
              .join('\n'),
        );
        failed++;
        break;
      }
      bootMs.push(out.bootMs);
      figures.push(...parseFigures(out.transcript));
    }
    const summary = summarize(figures);
    const w = Math.max(0, ...summary.map((s) => s.metric.length));
    console.log(`\n${imageStem(m)} (${accel.accel}, ${bootMs.length} boots):`);
    for (const s of summary)
      console.log(`  ${s.metric.padEnd(w)} median ${String(s.median).padStart(10)} ${s.unit}  (min ${s.min}, max ${s.max}, n=${s.runs})`);
    if (summary.length === 0) console.log('  (no `bench <metric> <value> <unit>` lines printed)');
    const file = `results/bench/${imageStem(m)}.json`;
    await writeAtomic(
      join(root, file),
      `${JSON.stringify(
        {
          schemaVersion: 1,
          manifest: m,
          accelerator: accel.accel,
          runs: bootMs.length,
          bootMs,
          summary,
          commit: git.commit,
          dirty: git.dirty,
          at: new Date().toISOString(),
          manifestBytes: (await readFile(join(root, imagePath(m)))).length,
        },
        null,
        2,
      )}\n`,
    );
    const kind = reportKind(imageStem(m));
    if (kind) {
      const report = await makeReport(
        root,
        kind,
        accel.accel,
        [
          {
            title: `${imageStem(m)}: medians of ${bootMs.length} boots`,
            how: `Each boot prints its own figures (bench <metric> <value> <unit>, timed on the Timer cap); medians, minimum and maximum over the boots.`,
            columns: [{ label: 'metric' }, { label: 'unit' }, { label: 'median' }, { label: 'min' }, { label: 'max' }, { label: 'boots' }],
            rows: summary.map((x) => [x.metric, x.unit, x.median, x.min, x.max, x.runs]),
          },
        ],
        bootMs.length < runs ? [`boot ${bootMs.length + 1} of ${runs} failed`] : [],
      );
      console.log(`  → ${await writeReport(root, report)}`);
    }
    console.log(`  → ${file}`);
  }
  if (names.length === 0 || names.includes('cue') || names.includes('bench-cue')) failed += await cueComparisons(); // chapter W.8
  if (names.length === 0) failed += await runComparisons(root); // chapter A.4: wasm runners, kernel vs Linux
  if (names.length === 0) failed += await benchFiles(root, 3, console.log); // chapter 16: file throughput
  if (names.length === 0) failed += await benchNet(root, console.log); // chapter W.6: HTTP burst, capOS and wasmi_cli
  if (names.length === 0) failed += await storeBench(3); // appendix A.7: the store beside ext4 in a Linux guest
  if (names.length === 0) failed += await siteBudget();
  return failed ? 1 : 0;
}

/** Appendix A.7: the store and ext4 in the Linux guest, alternating boots (tangle/bench/store.ts). */
async function storeBench(n: number): Promise<number> {
  await buildAll(root, {});
  await buildNative(root);
  const accel = await chooseAccelerator({ kernel: KERNEL, initrd: imagePath(STORE_MANIFEST) }, root);
  console.log(`\nstore bench: accelerator ${accel.accel} (${accel.reason})`);
  return runStoreBench(root, accel.accel, n, console.log);
}

/** Two capOS builds booted alternately (chapter A.1): the medians of each and of the per-round ratios. */
async function abRun(dirs: string[]): Promise<number> {
  const accel = await chooseAccelerator({ kernel: KERNEL, initrd: imagePath('manifests/system-bench-capos.cue') }, root);
  const builds = dirs.map((d) => ({ label: d, build: snapshotBuild(d) }));
  const r = await runAb(root, builds, accel.accel, runs, console.log, args.includes('--quick'));
  console.log('');
  for (const l of formatAb(r)) console.log(l);
  for (const e of r.errors) console.log(`ERROR: ${e}`);
  return r.errors.length ? 1 : 0;
}

/** The kernel's TSC profile of the round-trip systems (tangle/bench/profile.ts). */
async function profileRun(): Promise<number> {
  await buildAll(root, {});
  const accel = await chooseAccelerator({ kernel: KERNEL, initrd: imagePath('manifests/system-bench-capos.cue') }, root);
  return runProfile(root, accel.accel, runsAt >= 0 ? runs : 1, console.log);
}

/** Chapter W.8: the CUE evaluator natively, under node:wasi and as the host's cue (capOS figures are above). */
async function cueComparisons(): Promise<number> {
  console.log('\nCUE evaluator comparisons (chapter W.8):');
  const b = await benchCue(root, 3, (l) => console.log(l));
  for (const line of formatCue(b)) console.log(`  ${line}`);
  for (const e of b.errors) console.log(`  ERROR: ${e}`);
  const report = await makeReport(
    root,
    'cue',
    'host',
    [
      {
        title: `cue export of one manifest, ${(b.moduleBytes / 1e6).toFixed(1)} MB module`,
        how:
          "Host wall time and peak RSS (/usr/bin/time), medians of 3 runs; each run's output must equal the host cue's. capOS's own figures " +
          "are the system-bench-cue boot's.",
        columns: [{ label: 'runner' }, { label: 'wall', unit: 'ms' }, { label: 'peak RSS', unit: 'MiB' }, { label: 'runs' }],
        rows: b.rows.map((r) => [r.runner, r.wallMs, Math.round(r.peakRssKiB / 1024), r.runs]),
        chart: { columns: [1], scale: 'table', unit: 'ms' },
      },
    ],
    b.errors,
  );
  console.log(`  → ${await writeReport(root, report)}`);
  return b.errors.length;
}

/** The site's budget (issue: build under 30 s, under 300 KB of JS per page), printed like the other figures. */
async function siteBudget(): Promise<number> {
  console.log('\nsite budget (cold and warm builds of the whole book):');
  const b = await benchSite();
  for (const line of formatSiteBench(b)) console.log(`  ${line}`);
  await writeAtomic(
    join(root, 'results/bench/site.json'),
    `${JSON.stringify(
      {
        schemaVersion: 1,
        buildMs: b.buildMs,
        warmBuildMs: b.warmBuildMs,
        maxJsBytes: b.maxJs.jsBytes,
        maxJsPage: b.maxJs.page,
        largestBytes: b.largest.totalBytes,
        largestPage: b.largest.page,
        pages: b.pages.length,
        withinBudget: b.withinBudget,
        at: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  return b.withinBudget ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`bench failed: ${describeError(e)}`);
  process.exitCode = 1;
}
