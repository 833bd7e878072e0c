// `npm run tangle [-- --check]`: parse the book, tangle it and write what changed
// (with --check: report drift and exit 1 without writing).
import { runTangle } from '../tangle/run.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--check');
if (unknown.length > 0) {
  console.error(`tangle: unexpected argument ${unknown.map((a) => `\`${a}\``).join(', ')}; usage: npm run tangle [-- --check]`);
  process.exitCode = 2;
} else {
  runTangle(root, { check: args.includes('--check') }).then((code) => { process.exitCode = code });
}
