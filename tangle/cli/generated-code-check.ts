// `npm run generated-code-check [-- --write]` (`make generated-code-check`): the capOS schema's interface ids and
// method ordinals match the pinned capos/schema/abi-pin.txt (tangle/check/schema-abi.ts), and the tangled tree matches
// the chapters (`npm run tangle -- --check`). `--write` rewrites the pinned file from the schema: an ABI change,
// committed together with the schema change.
import { checkSchemaAbi, PIN, SCHEMA } from '../check/schema-abi.js';
import { runTangle } from '../tangle/run.js';
import { repoRoot } from './root.js';

const root = repoRoot();
const write = process.argv.includes('--write');
const problems = await checkSchemaAbi(root, { write });
if (write) console.log(`generated-code-check: wrote ${PIN} from ${SCHEMA}; commit it with the schema change`);
for (const p of problems) console.error(p);
if (problems.length > 0) {
  console.error(`generated-code-check: ${SCHEMA}'s interface ids or method ordinals differ from ${PIN} (an ABI change).`);
  console.error('If the change is intended, run `npm run generated-code-check -- --write` and commit the pinned file in the same commit.');
} else if (!write) console.log(`generated-code-check: ${SCHEMA} matches ${PIN}`);
const tangled = await runTangle(root, { check: true });
process.exitCode = problems.length > 0 || tangled !== 0 ? 1 : 0;
