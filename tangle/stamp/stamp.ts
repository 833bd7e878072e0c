// Stamp a phase: check, rewrite the chapter's front matter, read it back, replace atomically.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../build/stamp.js';
import { parseChapter } from '../parse/processor.js';
import { checkStamp } from './check.js';
import { stampFrontMatter, stampTime } from './front-matter.js';

export async function stamp(repo: string, phase: string, now = new Date()): Promise<{ ok: boolean; lines: string[] }> {
  const check = await checkStamp(repo, phase);
  if (!check.ok) return { ok: false, lines: [`stamp: refusing to stamp ${phase}:`, ...check.reasons.map((r) => `  - ${r}`)] };
  const path = join(repo, check.chapter.path);
  const source = await readFile(path, 'utf8');
  const stamped = stampFrontMatter(source, { commit: check.commit, time: stampTime(now) });
  // Read it back through the real parser before replacing the chapter.
  const { chapter, metaValid } = await parseChapter(check.chapter.path, stamped);
  if (!metaValid || chapter.meta.stamp?.commit !== check.commit)
    return { ok: false, lines: ['stamp: internal error: the stamped front matter does not parse back; chapter left unchanged'] };
  await writeAtomic(path, stamped);
  const smokes = check.smokes.length > 0 ? check.smokes.join(', ') : 'no smokes listed';
  return {
    ok: true,
    lines: [`stamp: ${check.chapter.path} → status: done, stamp ${check.commit} ${stampTime(now)} (${smokes})`, 'stamp: commit the chapter to record it'],
  };
}
