// Which tangled files one smoke's boots depend on, so that its result goes stale when they change and only then.
// A boot is its manifest (and the manifests of its later `boot:` sections), the shared CUE under manifests/ that
// every manifest imports, and the binaries and blobs the image embeds: each `"build/…"` path the manifest names is
// traced back to the tangled folder it is built from (build/demos/<d>.wasm ← demos/<d>/, build/capos-wasm/… ←
// capos-wasm/ except its tests, build/archives/<a>.tar ← the archive list and the folder it packs). Hand-written
// binaries (build/capos/*: the kernel, init, services) are not tangled; the image hash covers them. A computed
// expectation's input file counts too. Chapter A.2 ("Closing a phase") documents the rule.
import type { SmokeSpec, TangledFile } from '../parse/model.js';
import { referencedBuildPaths } from '../build/images.js';

/** The manifests a smoke boots, first boot first. */
export function smokeManifests(spec: SmokeSpec): string[] {
  return [...new Set([spec.manifest, ...(spec.boots ?? []).map((b) => b.manifest)])];
}

/** The tangled files `spec`'s boots depend on, in path order. */
export function smokeDependencies(tangled: readonly TangledFile[], spec: SmokeSpec): TangledFile[] {
  const byPath = new Map(tangled.map((f) => [f.path, f]));
  const folders = new Set<string>();
  const files = new Set<string>();
  const manifests = smokeManifests(spec);
  for (const f of tangled) if (f.path.startsWith('manifests/') && !isSystemManifest(f.path)) files.add(f.path); // shared CUE
  for (const manifest of manifests) {
    files.add(manifest);
    const text = byPath.get(manifest)?.content ?? '';
    // capos-wasm is the one tangled program a manifest may name by binary name alone (defaults #Wasm)
    if (text.includes('capos-wasm')) folders.add('capos-wasm/');
    for (const path of referencedBuildPaths(text)) {
      const demo = path.match(/^build\/demos\/([^/]+)\.wasm$/);
      if (demo) folders.add(`demos/${demo[1]}/`);
      const archive = path.match(/^build\/archives\/([^/]+)\.tar$/);
      if (archive)
        for (const list of tangled.filter((f) => f.path.endsWith(`/${archive[1]}.archive`))) {
          files.add(list.path);
          const root = list.content.match(/^root:\s*(\S+)\s*$/m)?.[1];
          if (root) folders.add(`${root.replace(/\/+$/, '')}/`);
        }
    }
  }
  for (const step of [...spec.steps, ...(spec.boots ?? []).flatMap((b) => b.steps)]) if (step.kind === 'computed') files.add(step.file);
  return tangled
    .filter((f) => files.has(f.path) || [...folders].some((d) => f.path.startsWith(d) && !f.path.startsWith('capos-wasm/tests/')))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isSystemManifest(path: string): boolean {
  return /^manifests\/system[^/]*\.cue$/.test(path);
}
