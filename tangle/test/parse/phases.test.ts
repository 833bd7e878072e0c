// A phase told in several chapter files: its chapters, the one carrying its stamp, its smokes; the board and a
// chapter page agree; a second stamp for one phase is refused.
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { BookError, formatMessage, loadBook, phaseChapters, phaseSmokes, stampChapter, tangleBook } from '../../index.js';
import { chapterStanding, loadPhases, phaseBoard } from '../../../site/lib/phases.js';
import { loadResults, smokeViews } from '../../../site/lib/results.js';
import { FIXTURE_BOOK, writeFixtureResults } from '../site/fixture-results.js';

const THIRD = `---
phase: W.2
title: Second steps, continued
status: in-progress
description: The second part of phase W.2, in a file of its own.
topics: [fixture]
smokes: [fix-third]
---

# Second steps, continued

\`\`\`smoke name=fix-third manifest=manifests/fixture.cue
> [init] third
\`\`\`
`;

/** The site fixture book plus a second W.2 chapter file. */
async function splitBook(third = THIRD): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'phases-split-'));
  await cp(FIXTURE_BOOK, root, { recursive: true });
  await writeFile(path.join(root, 'chapters', '11a-w2-third.md'), third);
  return root;
}

describe('phaseChapters', () => {
  test('a phase spans its chapter files in book order; the first carries the stamp; the smokes are all of theirs', async () => {
    const book = await loadBook(await splitBook());
    const chapters = phaseChapters(book, 'W.2');
    expect(chapters.map((c) => c.path)).toEqual(['chapters/11-w2-second.md', 'chapters/11a-w2-third.md']);
    expect(stampChapter(chapters)!.path).toBe('chapters/11-w2-second.md');
    expect(phaseSmokes(chapters)).toEqual(['fix-stale', 'fix-missing', 'fix-third']);
  });

  test("the board shows one row for the phase with every file's smokes, and each page shows that standing", async () => {
    const root = await splitBook();
    const book = await loadBook(root);
    const dir = await mkdtemp(path.join(tmpdir(), 'phases-results-'));
    await writeFixtureResults(dir);
    const views = smokeViews(book, tangleBook(book), await loadResults(dir));
    const phases = await loadPhases(root);
    const row = phaseBoard(phases, book, views).find((r) => r.id === 'W.2')!;
    expect(row.smokes.map((s) => [s.name, s.state])).toEqual([
      ['fix-stale', 'stale'],
      ['fix-missing', 'missing'],
      ['fix-third', 'missing'],
    ]);
    expect(row.chapter!.path).toBe('chapters/11-w2-second.md');
    const [second, third] = phaseChapters(book, 'W.2');
    expect(chapterStanding(book, third!, phases, views)).toEqual(chapterStanding(book, second!, phases, views));
  });

  test('a second stamp for one phase is an error at its stamp line, pointing at the first', async () => {
    const first = await readFile(path.join(FIXTURE_BOOK, 'chapters', '10-w1-first.md'), 'utf8');
    const stamp = first.split('\n').find((l) => l.startsWith('stamp:'))!;
    const root = await splitBook(THIRD.replace('phase: W.2', 'phase: W.1').replace('status: in-progress', `status: done\n${stamp}`));
    const error = await loadBook(root).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BookError);
    expect((error as BookError).messages.map(formatMessage)).toEqual([
      'chapters/11a-w2-third.md:5:1: Unexpected second stamp for phase W.1, which chapters/10-w1-first.md already carries. Fix: keep the stamp in one chapter of the phase (the first) and remove this one. [phase-stamped-twice]',
    ]);
  });
});
