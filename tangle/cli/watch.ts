// npm run watch [-- --no-site] [-- --port N]: the contributor loop. Tangles the book, serves the site with Astro's dev
// server (unless --no-site), and on every save under chapters/ runs a cycle (tangle/watch/cycle.ts): re-tangle,
// rebuild what changed, boot the smokes of the saved chapters. Each step and every problem, at its chapter line,
// goes to this terminal and to build/watch/status.json, which the dev server's banner shows. Ctrl-C stops.
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describeError } from '../build/book.js';
import { runCycle, type RunTool } from '../watch/cycle.js';
import { serialise, watchChapters } from '../watch/changes.js';
import { STATUS_FILE, writeStatus, type WatchStatus } from '../watch/status.js';
import { repoRoot } from './root.js';

const USAGE = 'usage: npm run watch [-- --no-site] [-- --port N]';
const root = repoRoot();
const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : 4321;
const unknown = args.filter((a, i) => a !== '--no-site' && a !== '--port' && !(portAt >= 0 && i === portAt + 1));
if (unknown.length > 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`watch: unexpected argument ${unknown.map((a) => `\`${a}\``).join(', ') || `--port ${args[portAt + 1] ?? ''}`}; ${USAGE}`);
  process.exit(2);
}

const log = (line: string) => console.log(`  ${line}`);

/** The tangler's own CLIs, in this book, their output passed through indented and kept for the status. */
const runTool: RunTool = async (tool, names) => {
  const child = execa(join(root, 'node_modules/.bin/tsx'), [`tangle/cli/${tool}.ts`, ...names], { cwd: root, all: true, buffer: false, reject: false });
  const lines: string[] = [];
  let rest = '';
  child.all?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      console.log(`    ${l}`);
    }
  });
  const r = await child;
  if (rest) {
    lines.push(rest);
    console.log(`    ${rest}`);
  }
  return { code: r.exitCode ?? 1, lines };
};

function print(status: WatchStatus): void {
  const mark = status.state === 'running' ? '…' : status.state === 'passed' ? 'ok' : 'FAILED';
  console.log(`watch: [${status.generation}] ${mark} ${status.summary}`);
  for (const p of status.problems) console.log(`  ${p.where}: ${p.message}`);
  for (const s of status.smokes.filter((x) => !x.ok)) {
    console.log(`  ${s.name} (${s.where}):`);
    for (const f of s.failures)
      console.log(
        f
          .split('\n')
          .map((l) => `    ${l}`)
          .join('\n'),
      );
  }
}

async function report(status: WatchStatus): Promise<void> {
  await writeStatus(root, status);
  print(status);
}

let generation = 0;
const ctx = { root, log, runTool, report };
async function cycle(changed: string[]): Promise<void> {
  generation += 1;
  try {
    await report(await runCycle(ctx, generation, changed));
  } catch (e) {
    // a cycle that breaks (not a failing smoke: a crash of the tangler itself) is shown, and the watch goes on
    await report({
      generation,
      state: 'failed',
      step: 'done',
      changed,
      startedAt: new Date().toISOString(),
      summary: `the cycle broke: ${describeError(e)}`,
      problems: [],
      smokes: [],
    });
  }
}

// the first cycle only tangles (no chapter changed yet, so no smoke is selected)
await cycle([]);
let site: ResultPromise | undefined;
if (!args.includes('--no-site')) {
  // astro.config.mjs adds the banner integration (site/lib/watch-banner.ts) when WATCH_STATUS names a status file
  site = execa(process.execPath, [join(root, 'node_modules/astro/astro.js'), 'dev', '--root', root, '--host', '127.0.0.1', '--port', String(port)], {
    cwd: root,
    stdio: 'inherit',
    reject: false,
    env: { WATCH_STATUS: join(root, STATUS_FILE), ASTRO_TELEMETRY_DISABLED: '1' },
  });
}
const watcher = watchChapters(
  root,
  serialise(cycle, (e) => console.error(`watch: ${describeError(e)}`)),
);
process.on('SIGINT', () => {
  watcher.close();
  site?.kill('SIGINT');
  process.exit(130);
});
console.log(`watch: watching chapters/ ${site ? `with the site at http://127.0.0.1:${port}/ ` : ''}(Ctrl-C stops)`);
