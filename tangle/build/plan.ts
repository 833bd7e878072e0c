// The whole build in order: capOS binaries, host tools (and the smoke runner's listen shim), capos-wasm (both sides),
// demos, the conformance cases as boot blobs, input archives, the precompiler and .cwasm files, boot images.
// Steps run one at a time (two shared cores; cargo already uses both).
import { archiveSteps } from './archives.js';
import { caposStep, caposWasmSteps, hostToolsStep, toolVersions } from './cargo.js';
import { conformanceSteps } from './conformance.js';
import { demoSteps } from './demos.js';
import { imageSteps, listManifests } from './images.js';
import { cwasmSteps, precompilerStep } from './precompile.js';
import { listenShimStep } from './shim.js';
import { fmtMs, runStep, type BuildStep, type Log, type StepReport } from './step.js';
import { FileDigests } from './stamp.js';
import { loadTangleMap } from '../diag/remap.js';

export class BuildError extends Error {
  override name = 'BuildError';
}

export interface BuildOptions {
  /** extra manifests to image (smokes' manifests) */
  manifests?: string[];
  /** only run steps whose name matches (e.g. "image system-hello"); default all */
  only?: (name: string) => boolean;
  force?: boolean;
  log?: Log;
}

export async function planBuild(root: string, opts: BuildOptions = {}): Promise<BuildStep[]> {
  // What the tools say about tangled files is reported at chapter lines (the map `npm run tangle` wrote).
  const map = await loadTangleMap(root);
  const versions = await toolVersions(root);
  const steps = [
    await caposStep(root, versions),
    await hostToolsStep(root, versions),
    listenShimStep(root),
    ...(await caposWasmSteps(root, versions, map)),
    ...(await demoSteps(root, map)),
    ...(await conformanceSteps(root)),
    ...(await archiveSteps(root)),
    // Appendix A.8: the host precompiler (cached outside the clone), then a .cwasm for each module run on wasmtime.
    ...(await wasmtimeSteps(root, versions, opts.manifests ?? [])),
    ...(await imageSteps(root, opts.manifests ?? [], map)),
  ];
  return opts.only ? steps.filter((s) => opts.only!(s.name)) : steps;
}

async function wasmtimeSteps(root: string, versions: string[], also: string[]): Promise<BuildStep[]> {
  const manifests = [...new Set([...(await listManifests(root)), ...also])];
  const cwasm = await cwasmSteps(root, manifests);
  return cwasm.length > 0 ? [await precompilerStep(root, versions), ...cwasm] : [];
}

export async function buildAll(root: string, opts: BuildOptions = {}): Promise<StepReport[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const t0 = performance.now();
  const steps = await planBuild(root, opts);
  const reports: StepReport[] = [];
  const failed: { name: string; error: unknown }[] = [];
  const digests = new FileDigests();
  // Keep going after a failing compile so one run shows every broken step; but images embed the binaries, so
  // none is made from a partly failed build.
  for (const s of steps) {
    if (s.name.startsWith('image ') && failed.length > 0) {
      log(`  ${s.name}: skipped (an earlier step failed)`);
      continue;
    }
    try {
      reports.push(await runStep(root, s, log, opts.force, digests));
    } catch (e) {
      failed.push({ name: s.name, error: e });
      log(`  ${s.name}: FAILED`);
    }
  }
  const built = reports.filter((r) => r.status === 'built').length;
  log(`build: ${steps.length} steps, ${built} built, ${reports.length - built} up to date, ${failed.length} failed, ${fmtMs(performance.now() - t0)}`);
  if (failed.length > 0) {
    throw new BuildError(failed.map((f) => (f.error instanceof Error ? f.error.message : String(f.error))).join('\n\n'));
  }
  return reports;
}
