// Archive lists expand to real files; the step builds a real, reproducible tar.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { archiveSteps, expandArchiveList, parseArchiveList } from '../../build/archives.js';

function scratch(): string {
  const root = mkdtempSync(join(tmpdir(), 'capos-archive-'));
  const put = (p: string, s: string) => {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), s);
  };
  put('manifests/system-a.cue', 'package capos\n');
  put('manifests/cue.mod/module.cue', 'module: "capos.local"\n');
  put('manifests/cue/defaults/b.cue', 'package defaults\n');
  put('manifests/cue/defaults/a.cue', 'package defaults\n');
  put('manifests/cue/defaults/notes.txt', 'not cue\n');
  put('demos/inputs/x.archive', '# comment\nroot: manifests\nsystem-a.cue\ncue.mod/module.cue\ncue/defaults/\n');
  return root;
}

describe('archive lists', () => {
  test('folders expand to their .cue files, sorted, after the files before them', async () => {
    const root = scratch();
    const list = await expandArchiveList(root, readFileSync(join(root, 'demos/inputs/x.archive'), 'utf8'), 'x.archive');
    expect(list).toEqual({ root: 'manifests', members: ['system-a.cue', 'cue.mod/module.cue', 'cue/defaults/a.cue', 'cue/defaults/b.cue'] });
  });

  test.each([['system-a.cue\n'], ['root: ../up\nx.cue\n'], ['root: manifests\n/etc/passwd\n'], ['root: manifests\n'], ['root: manifests\n../x\n']])(
    'refuses the list %j',
    (text) => {
      expect(() => parseArchiveList(text, 'l.archive')).toThrow(/l\.archive/);
    },
  );

  test('a missing member is refused naming it', async () => {
    await expect(expandArchiveList(scratch(), 'root: manifests\nnope.cue\n', 'l.archive')).rejects.toThrow(/manifests\/nope\.cue does not exist/);
  });

  test('the step writes a tar in list order, the same bytes every time', async () => {
    const root = scratch();
    const [step] = await archiveSteps(root);
    expect(step!.name).toBe('archive x');
    expect(await step!.run()).toEqual(['build/archives/x.tar']);
    const first = readFileSync(join(root, 'build/archives/x.tar'));
    const names = execFileSync('tar', ['-tf', join(root, 'build/archives/x.tar')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(names).toEqual(['system-a.cue', 'cue.mod/module.cue', 'cue/defaults/a.cue', 'cue/defaults/b.cue']);
    await step!.run();
    expect(readFileSync(join(root, 'build/archives/x.tar')).equals(first)).toBe(true);
  });
});
