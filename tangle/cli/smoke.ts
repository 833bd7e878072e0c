// npm run smoke [-- name …]: tangle, build what is missing, boot each selected smoke's manifest in QEMU (in parallel
// up to the core count), check the chapter's assertions, write results/smoke/<name>.json, print a summary.
import { availableParallelism } from 'node:os';
import { allSmokes, describeError, tangle } from '../build/book.js';
import { buildAll } from '../build/plan.js';
import { setupProblem } from '../build/preflight.js';
import { fmtMs } from '../build/step.js';
import { chooseAccelerator } from '../smoke/accel.js';
import { gitState } from '../smoke/git.js';
import { failures, summaryTable } from '../smoke/report.js';
import { imageFor, imageManifests, pool, runSmoke, writeResult } from '../smoke/runner.js';
import { repoRoot } from './root.js';
import type { SmokeResult } from '../smoke/result.js';
import { smallestImage } from '../smoke/probe-image.js';

const root = repoRoot();
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const t0 = performance.now();

async function main(): Promise<number> {
  console.log('smoke: tangle and build');
  const t = await tangle(root, console.log);
  const unset = await setupProblem(root, 'smoke');
  if (unset) {
    console.error(unset);
    return 1;
  }
  const every = allSmokes(t.book);
  const unknown = names.filter((n) => !every.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`smoke: unknown smoke ${unknown.join(', ')}; the book defines: ${every.map((s) => s.name).join(', ') || '(none)'}`);
    return 2;
  }
  const selected = names.length > 0 ? every.filter((s) => names.includes(s.name)) : every;
  if (selected.length === 0) {
    console.log('smoke: the book defines no smokes yet');
    return 0;
  }
  await buildAll(root, { manifests: [...new Set(selected.flatMap(imageManifests))] });
  const accel = await chooseAccelerator(
    await smallestImage(
      root,
      selected.map((s) => imageFor(s)),
    ),
    root,
  );
  console.log(`smoke: accelerator ${accel.accel} (${accel.reason})`);
  const git = await gitState(root);
  const limit = availableParallelism();
  console.log(`smoke: booting ${selected.length} smoke${selected.length === 1 ? '' : 's'}, ${limit} at a time`);
  const results: SmokeResult[] = await pool(selected, limit, async (spec) => {
    const r = await runSmoke(spec, { root, tangled: t.files, accel: accel.accel, git });
    const file = await writeResult(root, r);
    console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${spec.name} (${r.boots.map((b) => `${b.bootMs} ms`).join(' + ')}) → ${file}`);
    return r;
  });
  console.log(`\n${summaryTable(results)}`);
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) {
    console.log(`\n${r.name} failed (${r.chapter}:${r.chapterLine}):`);
    for (const f of failures(r)) console.log(f);
  }
  console.log(
    `\nsmoke: ${results.length - failed.length} passed, ${failed.length} failed in ${fmtMs(performance.now() - t0)}` +
      `${git.dirty ? ' (dirty tree: results are not stampable)' : ''}`,
  );
  return failed.length > 0 ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.error(`smoke failed: ${describeError(e)}`);
  process.exitCode = 1;
}
