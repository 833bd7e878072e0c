// Input archives for guests that read files from stdin (chapter W.8): each `demos/<folder>/<name>.archive` lists the
// files of one tar archive, built to `build/archives/<name>.tar`. The list's first line is `root: <dir>` (paths in
// the archive are relative to it); every other line is a file under the root, or a folder ending in `/`, which
// stands for the `.cue` files directly in it, sorted by name. Order is kept: the first file is the one a reader
// evaluates. The tar is reproducible (ustar, owner 0, mtime 0), so its hash changes only with its contents.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runTool, StepError } from './exec.js';
import type { BuildStep } from './step.js';

export interface ArchiveList {
  /** repo-relative folder the archive's paths are relative to */
  root: string;
  /** archive member paths, in order */
  members: string[];
}

/** Parses an archive list; `where` names it in errors. */
export function parseArchiveList(text: string, where: string): { root: string; entries: string[] } {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const head = lines.shift();
  const root = head?.match(/^root:\s*(\S+)$/)?.[1];
  if (!root) throw new StepError('archives', `${where}: the first line must be "root: <folder>"`);
  for (const entry of [root, ...lines]) {
    if (entry.startsWith('/') || entry.split('/').includes('..')) {
      throw new StepError('archives', `${where}: "${entry}" must be a relative path without ".."`);
    }
  }
  if (lines.length === 0) throw new StepError('archives', `${where}: the list names no files`);
  return { root, entries: lines };
}

/** The list with folders expanded to their `.cue` files; every member must exist. */
export async function expandArchiveList(repo: string, text: string, where: string): Promise<ArchiveList> {
  const { root, entries } = parseArchiveList(text, where);
  const members: string[] = [];
  for (const entry of entries) {
    if (entry.endsWith('/')) {
      const dir = entry.replace(/\/+$/, '');
      let names: string[];
      try {
        names = (await readdir(join(repo, root, dir))).filter((n) => n.endsWith('.cue')).sort();
      } catch {
        throw new StepError('archives', `${where}: folder ${join(root, dir)} does not exist`);
      }
      members.push(...names.map((n) => `${dir}/${n}`));
    } else {
      const ok = await stat(join(repo, root, entry)).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!ok) throw new StepError('archives', `${where}: file ${join(root, entry)} does not exist`);
      members.push(entry);
    }
  }
  return { root, members };
}

export async function archiveSteps(repo: string): Promise<BuildStep[]> {
  const lists: string[] = [];
  try {
    for (const folder of (await readdir(join(repo, 'demos'), { withFileTypes: true })).filter((e) => e.isDirectory())) {
      for (const f of await readdir(join(repo, 'demos', folder.name))) {
        if (f.endsWith('.archive')) lists.push(`demos/${folder.name}/${f}`);
      }
    }
  } catch {
    return [];
  }
  const steps: BuildStep[] = [];
  for (const list of lists.sort()) {
    const name = list
      .split('/')
      .pop()!
      .replace(/\.archive$/, '');
    const out = `build/archives/${name}.tar`;
    const members = async () => expandArchiveList(repo, await readFile(join(repo, list), 'utf8'), list);
    steps.push({
      name: `archive ${name}`,
      extra: ['tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@0'],
      async inputs() {
        const { root, members: m } = await members();
        return [list, ...m.map((f) => join(root, f))];
      },
      async run() {
        const { root, members: m } = await members();
        await mkdir(join(repo, 'build/archives'), { recursive: true });
        await runTool(
          repo,
          `archive-${name}`,
          'tar',
          ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', out, '-C', root, '--', ...m],
          { cwd: repo },
        );
        return [out];
      },
    });
  }
  return steps;
}
