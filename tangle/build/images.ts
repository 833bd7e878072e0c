// Boot images: one build/images/<stem>/manifest.bin per manifests/system*.cue, made by mkmanifest (which runs the
// real `cue` from build/tools). A manifest's stamp covers its CUE, the shared CUE below manifests/ (defaults), the
// mkmanifest binary, every capOS binary and demo (defaults name binaries by interpolated paths such as
// "build/capos/\(N)", so the exact set is only known after evaluation) and any other build path the CUE names.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MKMANIFEST } from './cargo.js';
import { runTool } from './exec.js';
import type { BuildStep } from './step.js';
import { textTranslator, type TangleMap } from '../diag/remap.js';
import { listFiles } from './stamp.js';

/** Where the binaries a manifest may embed are built. */
export const BINARY_DIRS = ['build/capos', 'build/capos-wasm', 'build/demos', 'build/conformance', 'build/cwasm'];

export function isManifestFile(name: string): boolean {
  return /^system.*\.cue$/.test(name);
}

export function imageStem(manifest: string): string {
  return basename(manifest).replace(/\.cue$/, '');
}

export function imagePath(manifest: string): string {
  return `build/images/${imageStem(manifest)}/manifest.bin`;
}

/** Paths under build/ that CUE text names in string literals. */
export function referencedBuildPaths(cue: string): string[] {
  return [...new Set([...cue.matchAll(/"(build\/[^"\s\\]+)"/g)].map((m) => m[1]!))].sort();
}

export async function listManifests(root: string): Promise<string[]> {
  try {
    return (await readdir(join(root, 'manifests')))
      .filter(isManifestFile)
      .sort()
      .map((f) => `manifests/${f}`);
  } catch {
    return [];
  }
}

/** `also`: manifests smokes name that do not follow the system*.cue naming. */
export async function imageSteps(root: string, also: string[] = [], map?: TangleMap): Promise<BuildStep[]> {
  const manifests = [...new Set([...(await listManifests(root)), ...also])].sort();
  const shared = async () => (await listFiles(root, 'manifests')).filter((f) => !manifests.includes(f));
  return manifests.map((m) => ({
    name: `image ${imageStem(m)}`,
    extra: ['mkmanifest', m, '--root', '.'],
    async inputs() {
      const sharedFiles = await shared();
      const texts = await Promise.all([m, ...sharedFiles.filter((f) => f.endsWith('.cue'))].map((f) => readFile(join(root, f), 'utf8').catch(() => '')));
      const outputs = (await Promise.all(BINARY_DIRS.map((d) => listFiles(root, d)))).flat();
      return [m, ...sharedFiles, MKMANIFEST, ...outputs, ...texts.flatMap(referencedBuildPaths)];
    },
    async run() {
      const out = imagePath(m);
      await mkdir(join(root, 'build/images', imageStem(m)), { recursive: true });
      await runTool(root, `image-${imageStem(m)}`, join(root, MKMANIFEST), [m, '-o', out, '--root', '.'], {
        cwd: root,
        env: { PATH: `${join(root, 'build/tools')}:${process.env.PATH ?? ''}` },
        ...(map ? { translate: textTranslator(map, ['.', 'manifests']) } : {}),
      });
      return [out];
    },
  }));
}
