// `npm run clippy [-- <package>]`: cargo clippy with warnings denied over capos/ (host and capOS) and the tangled
// capos-wasm (both sides); with a package name (`capos-rt`, for `make capos-rt-check`) only that package's runs.
import { runClippy } from '../check/clippy.js';
import { repoRoot } from './root.js';

const only = process.argv[2];
process.exitCode = await runClippy(repoRoot(), only);
