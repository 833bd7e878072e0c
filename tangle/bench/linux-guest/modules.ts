// Kernel modules for the Linux guest. Debian's cloud kernel builds some drivers the benches need as modules (virtio_pci
// and virtio_blk, for a disk), and the unpacked package has no modules.dep (depmod runs at install time, which never
// happens here), so the load order comes from each module's own `.modinfo` strings: `name=` and `depends=`, NUL-
// separated key=value pairs the kernel's build writes into every .ko. Dependencies load first.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export class ModuleError extends Error {}

export interface KernelModule {
  name: string;
  path: string;
  depends: string[];
}

/** The kernel's spelling: `-` and `_` are the same in module names. */
const canonical = (name: string) => name.replace(/-/g, '_');

/** `name=` and `depends=` from a module's bytes (the .modinfo section's strings, found without parsing the ELF). */
export function modinfo(bytes: Uint8Array): { name?: string; depends: string[] } {
  const text = new TextDecoder('latin1').decode(bytes);
  const field = (key: string) => {
    const at = text.indexOf(`\0${key}=`);
    return at < 0 ? undefined : text.slice(at + key.length + 2, text.indexOf('\0', at + 1));
  };
  const depends = field('depends');
  const name = field('name');
  return { ...(name ? { name: canonical(name) } : {}), depends: depends ? depends.split(',').filter(Boolean).map(canonical) : [] };
}

async function* koFiles(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* koFiles(p);
    else if (e.name.endsWith('.ko')) yield p;
  }
}

/** Every `.ko` under the release's module tree, by canonical name (the file name; `name=` is checked when read). */
export async function moduleIndex(modulesDir: string): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  for await (const p of koFiles(modulesDir)) index.set(canonical(p.slice(p.lastIndexOf('/') + 1, -'.ko'.length)), p);
  return index;
}

/** `wanted` and everything they depend on, in an order insmod can load them (each after its dependencies). */
export async function loadOrder(modulesDir: string, wanted: string[]): Promise<KernelModule[]> {
  const index = await moduleIndex(modulesDir);
  const order: KernelModule[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = async (name: string, from: string[]): Promise<void> => {
    if (done.has(name)) return;
    if (visiting.has(name)) throw new ModuleError(`module dependency cycle: ${[...from, name].join(' → ')}`);
    const path = index.get(name);
    if (!path) throw new ModuleError(`module ${name}${from.length ? ` (needed by ${from.at(-1)})` : ''} is not under ${modulesDir}`);
    const info = modinfo(await readFile(path));
    if (info.name !== undefined && info.name !== name) throw new ModuleError(`${relative(modulesDir, path)} says it is ${info.name}, not ${name}`);
    visiting.add(name);
    for (const d of info.depends) await visit(d, [...from, name]);
    visiting.delete(name);
    done.add(name);
    order.push({ name, path, depends: info.depends });
  };
  for (const w of wanted) await visit(canonical(w), []);
  return order;
}
