// Runs before tsx in the package scripts: in a fresh clone node_modules (and so tsx) is missing, and npm would
// only say `tsx: not found`. One line instead, naming the fix (tangle/build/preflight.ts checks the rest).
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../../node_modules/.bin/tsx', import.meta.url))) {
  console.error(`${process.argv[2] ?? 'npm'}: this clone is not set up (missing node_modules); run \`npm run setup\` first`);
  process.exit(1);
}
