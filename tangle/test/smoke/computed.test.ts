// Computed expectations run the real pinned cue (build/tools/cue, from set-up) on real files in a scratch folder.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { SmokeSpec } from '../../parse/model.js';
import { checkSmoke } from '../../smoke/check.js';
import { CUE, expandComputed } from '../../smoke/computed.js';

const REPO = resolve(import.meta.dirname, '../../..');

/** A scratch repo whose build/tools/cue is the real one, with `demos/in/<name>` files. */
function scratch(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'capos-computed-'));
  mkdirSync(join(root, 'build/tools'), { recursive: true });
  writeFileSync(join(root, CUE), `#!/bin/sh\nexec ${JSON.stringify(join(REPO, CUE))} "$@"\n`, { mode: 0o755 });
  mkdirSync(join(root, 'demos/in'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, 'demos/in', name), text);
  return root;
}

function spec(file: string): SmokeSpec {
  return {
    name: 'run-x',
    manifest: 'manifests/x.cue',
    timeout: 60,
    exit: 0,
    forbid: [],
    chapter: 'chapters/x.md',
    line: 1,
    source: '',
    steps: [
      { kind: 'line', matcher: { kind: 'exact', text: 'boot', line: 2 } },
      { kind: 'computed', line: 3, prefix: '[cue] ', tool: 'cue export', file },
    ],
  };
}

describe('expandComputed', () => {
  test("expands into cue export's lines with the prefix, and the checker holds the transcript to them", async () => {
    const root = scratch({ 'a.cue': 'x: 1 + 1\ny: "<&>"\n' });
    const { spec: expanded, problems } = await expandComputed(root, spec('demos/in/a.cue'));
    expect(problems).toEqual([]);
    expect(expanded.steps.slice(1)).toEqual(
      ['{', '    "x": 2,', '    "y": "<&>"', '}'].map((text) => ({ kind: 'line', matcher: { kind: 'exact', text: `[cue] ${text}`, line: 3 } })),
    );
    const transcript = ['boot', '[cue] {', '[cue]     "x": 2,', '[cue]     "y": "<&>"', '[cue] }'];
    expect(checkSmoke(expanded, [{ transcript, exitStatus: 0, timedOut: false }])[0]!.every((a) => a.ok)).toBe(true);
    // A guest that printed another value fails at the directive's line.
    const wrong = checkSmoke(expanded, [{ transcript: transcript.map((l) => l.replace('2', '3')), exitStatus: 0, timedOut: false }])[0]!;
    expect(wrong.filter((a) => !a.ok).map((a) => a.chapterLine)).toEqual([3]);
  });

  test("a failing cue export is a failing assertion carrying cue's message", async () => {
    const root = scratch({ 'bad.cue': 'x: 1\nx: 2\n' });
    const { problems } = await expandComputed(root, spec('demos/in/bad.cue'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ ok: false, chapterLine: 3 });
    expect(problems[0]!.detail).toContain('conflicting values');
  });

  test('an unexpanded computed step fails the check instead of passing silently', () => {
    const results = checkSmoke(spec('demos/in/a.cue'), [{ transcript: ['boot'], exitStatus: 0, timedOut: false }])[0]!;
    expect(results.find((a) => a.chapterLine === 3)?.ok).toBe(false);
  });
});
