// `npm run stamp -- <phase>`: close a phase by writing `status: done` and `stamp: { commit, time }`
// into its chapter, only when every smoke it lists is green at HEAD on a clean tree.
import { stamp } from '../stamp/stamp.js';
import { repoRoot } from './root.js';

const root = repoRoot();

async function main(): Promise<number> {
  const phase = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (!phase) {
    console.error('usage: npm run stamp -- <phase>   (e.g. W.1)');
    return 2;
  }
  const result = await stamp(root, phase);
  for (const line of result.lines) (result.ok ? console.log : console.error)(line);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`stamp: ${(error as Error).message}`);
    process.exitCode = 1;
  },
);
