// Chapter states: the book as of one phase tangles on its own; a reference to a chunk only a later chapter defines
// expands to nothing there; every phase's state of the real book tangles without a problem.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatMessage, loadBook, runTangle } from '../../index.js';
import { analyseState, stateChapters } from '../../tangle/states.js';
import { repoRoot } from '../../cli/root.js';

const chapter = (phase: string, title: string, body: string) =>
  `---\nphase: ${phase}\ntitle: ${title}\nstatus: in-progress\ndescription: A fixture chapter.\ntopics: []\nsmokes: []\n---\n\n# ${title}\n\n${body}`;
const FENCE = '```';

/** W.1 starts a file with an extension point; W.2 fills it and appends; an appendix A.4 adds a file of its own. */
async function hookBook(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'states-'));
  await mkdir(join(root, 'chapters'));
  await writeFile(
    join(root, 'chapters', '10-w1-start.md'),
    chapter(
      'W.1',
      'Start',
      `${FENCE}rust file=capos-wasm/src/main.rs\nfn main() {\n    <<later work>>\n    <<own work>>\n}\n${FENCE}\n\n${FENCE}rust chunk="own work"\nstart();\n${FENCE}\n`,
    ),
  );
  await writeFile(
    join(root, 'chapters', '11-w2-more.md'),
    chapter(
      'W.2',
      'More',
      `${FENCE}rust chunk="later work"\nmore();\n${FENCE}\n\n${FENCE}rust file=capos-wasm/src/main.rs append\n// W.2 was here\n${FENCE}\n`,
    ),
  );
  await writeFile(join(root, 'chapters', '93-a4-extra.md'), chapter('A.4', 'Extra', `${FENCE}rust file=capos-wasm/src/extra.rs\nfn extra() {}\n${FENCE}\n`));
  return root;
}

/** Parsing the whole book takes a few seconds on an idle machine and over 20 on a shared one under load. */
const BOOK_TIMEOUT = 90_000;
describe('analyseState', () => {
  test("W.1's state leaves out W.2: its extension point expands to nothing, its append is not there", async () => {
    const book = await loadBook(await hookBook());
    const state = analyseState(book, 'W.1');
    expect(state.messages).toEqual([]);
    expect(state.chapters.map((c) => c.path)).toEqual(['chapters/10-w1-start.md']);
    expect(
      state.files
        .find((f) => f.path === 'capos-wasm/src/main.rs')!
        .content.split('\n')
        .slice(1),
    ).toEqual(['fn main() {', '    start();', '}', '']);
    const full = analyseState(book, 'W.2').files.find((f) => f.path === 'capos-wasm/src/main.rs')!.content;
    expect(full).toContain('    more();\n    start();\n}\n// W.2 was here\n');
    expect(analyseState(book, 'W.2').files.map((f) => f.path)).not.toContain('capos-wasm/src/extra.rs');
  });

  test(
    'the foundation appendices (A.1-A.3, A.1 in two files) are in every state; an unknown phase is refused',
    async () => {
      const book = await loadBook(repoRoot());
      expect(stateChapters(book, 'W.1')!.map((c) => c.meta.phase)).toEqual(['A.0', 'W.0', 'W.1', 'A.1', 'A.1', 'A.2', 'A.3']);
      expect(stateChapters(book, 'W.2')!.filter((c) => c.meta.phase === 'W.2')).toHaveLength(3);
      expect(() => analyseState(book, 'W.9')).toThrow(/no chapter has phase `W\.9`/);
    },
    BOOK_TIMEOUT,
  );

  test(
    "every phase's state of the book tangles without a problem",
    async () => {
      const book = await loadBook(repoRoot());
      const phases = [...new Set(book.chapters.map((c) => c.meta.phase))].filter((p) => p.startsWith('W.'));
      for (const phase of phases) expect(analyseState(book, phase).messages.map(formatMessage), phase).toEqual([]);
    },
    BOOK_TIMEOUT,
  );
});

describe('npm run tangle -- --upto', () => {
  test('writes the state into the scratch tree with its own map, and nothing into the book', async () => {
    const root = await hookBook();
    const lines: string[] = [];
    expect(await runTangle(root, { upto: 'W.1', log: (l) => lines.push(l) })).toBe(0);
    const main = await readFile(join(root, 'build/states/W.1/capos-wasm/src/main.rs'), 'utf8');
    expect(main).not.toContain('more()');
    expect(JSON.parse(await readFile(join(root, 'build/states/W.1/build/tangle-map.json'), 'utf8'))).toHaveProperty(['capos-wasm/src/main.rs']);
    await expect(readFile(join(root, 'capos-wasm/src/main.rs'), 'utf8')).rejects.toThrow();
  });
});
