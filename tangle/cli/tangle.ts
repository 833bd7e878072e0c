// `npm run tangle [-- --check] [-- --upto <phase> [--out <dir>]]`: parse the book, tangle it and write what changed
// (with --check: report drift and exit 1 without writing; with --upto: write the book's state as of that phase into
// a scratch tree, build/states/<phase> unless --out says otherwise; chapter A.2).
import { runTangle } from '../tangle/run.js';
import { repoRoot } from './root.js';

const USAGE = 'usage: npm run tangle [-- --check] [-- --upto <phase> [--out <dir>]]';
const root = repoRoot();
const args = process.argv.slice(2);
const value = (flag: string): string | undefined => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const upto = value('--upto');
const out = value('--out');
const known = new Set(['--check', '--upto', '--out', ...(upto ? [upto] : []), ...(out ? [out] : [])]);
const unknown = args.filter((arg) => !known.has(arg));
if (unknown.length > 0 || (args.includes('--upto') && !upto) || (out && !upto)) {
  console.error(`tangle: unexpected argument ${unknown.map((a) => `\`${a}\``).join(', ') || '(--upto needs a phase; --out needs --upto)'}; ${USAGE}`);
  process.exitCode = 2;
} else {
  runTangle(root, { check: args.includes('--check'), ...(upto ? { upto } : {}), ...(out ? { out } : {}) }).then((code) => {
    process.exitCode = code;
  });
}
