// `tsx tangle/cli/states.ts` (the `chapter states` stage of npm test): every WASI phase's state of the book, as
// `npm run tangle -- --upto <phase>` writes it, must tangle on its own (tangle/tangle/states.ts). Each state is
// written to build/states/<phase>; a problem in any is reported at its chapter line and fails the stage.
import { formatMessage, loadBook } from '../index.js';
import { writeTangled } from '../tangle/write.js';
import { analyseState } from '../tangle/states.js';
import { join } from 'node:path';
import { repoRoot } from './root.js';

const root = repoRoot();
const book = await loadBook(root);
const phases = [...new Set(book.chapters.map((c) => c.meta.phase))].filter((p) => p.startsWith('W.'));
let failed = 0;
for (const phase of phases) {
  const t0 = performance.now();
  const state = analyseState(book, phase);
  if (state.messages.length > 0) {
    failed += 1;
    console.error(`states: ${phase}: ${state.messages.length} problem${state.messages.length === 1 ? '' : 's'}`);
    for (const message of state.messages) console.error(`  ${formatMessage(message)}`);
    continue;
  }
  const { written } = await writeTangled(join(root, 'build/states', phase), state.files);
  console.log(
    `states: ${phase}: ${state.chapters.length} chapters, ${state.files.length} files (${written.length} written) in ${Math.round(performance.now() - t0)} ms`,
  );
}
console.log(`states: ${phases.length - failed} of ${phases.length} chapter states tangle`);
process.exitCode = failed > 0 ? 1 : 0;
