// Reading libFuzzer's output: the final statistics (-print_final_stats=1) and the crash report.

export interface FuzzStats {
  /** inputs executed */
  execs: number;
  /** executions per second over the run */
  execsPerSec: number;
  /** coverage features of the final corpus (its "ft:") */
  features: number;
  /** the file libFuzzer wrote the crashing input to, if it found one */
  crash?: string;
}

/** Parses a run's stderr; fields libFuzzer did not print are 0. */
export function parseStats(stderr: string): FuzzStats {
  const stat = (key: string): number => {
    const m = new RegExp(`^stat::${key}:\\s+(\\d+)`, 'm').exec(stderr);
    return m ? Number(m[1]) : 0;
  };
  const features = [...stderr.matchAll(/\bft: (\d+)/g)].map((m) => Number(m[1]));
  const crash = /Test unit written to (\S+)/.exec(stderr)?.[1];
  return {
    execs: stat('number_of_executed_units'),
    execsPerSec: stat('average_exec_per_sec'),
    features: features.length > 0 ? Math.max(...features) : 0,
    ...(crash ? { crash } : {}),
  };
}

/** What a fuzz run does: which targets, how long each may run, and whether it is the reproducible gate. */
export interface FuzzArgs {
  /** the time bound per target; in gate mode a cap that a healthy run never reaches */
  seconds: number;
  /**
   * `--gate`, what `npm test` runs: each target from a corpus of only its seeds, with libFuzzer's random
   * seed fixed and a fixed number of executions, so a clean tree gives the same verdict on every run
   */
  gate: boolean;
  targets: string[];
}

const USAGE = 'usage: npm run fuzz [-- target…] [--seconds N] [--gate]';

/** `--seconds N`, `--gate` and target names from a command line. */
export function parseArgs(argv: string[]): FuzzArgs {
  let seconds: number | undefined;
  let gate = false;
  const targets: string[] = [];
  const rest = [...argv];
  for (let a = rest.shift(); a !== undefined; a = rest.shift()) {
    if (a === '--seconds') {
      const given = rest.shift();
      const v = Number(given);
      if (!Number.isInteger(v) || v < 1) throw new Error(`--seconds needs a whole number of seconds above 0, not ${given}`);
      seconds = v;
    } else if (a === '--gate') {
      gate = true;
    } else if (a.startsWith('-')) {
      throw new Error(`unknown option ${a} (${USAGE})`);
    } else {
      targets.push(a);
    }
  }
  return { seconds: seconds ?? (gate ? GATE_SECONDS_CAP : 60), gate, targets };
}

/** libFuzzer's -seed in gate mode: any fixed value would do; this one is the gate's. */
export const GATE_SEED = 1;
/** The per-target time cap in gate mode, so that a machine far slower than CI still ends. */
export const GATE_SECONDS_CAP = 30;

/** libFuzzer's arguments for one target, after the corpus directory. */
export function libFuzzerArgs(args: FuzzArgs, target: { maxLen: number; gateRuns: number }, artifacts: string): string[] {
  const common = [
    `-max_total_time=${args.seconds}`,
    `-max_len=${target.maxLen}`,
    '-print_final_stats=1',
    '-timeout=10',
    '-rss_limit_mb=3072',
    `-artifact_prefix=${artifacts}`,
  ];
  return args.gate ? [...common, `-seed=${GATE_SEED}`, `-runs=${target.gateRuns}`, '-reload=0'] : common;
}
