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

/** `--seconds N` and target names from a command line. */
export function parseArgs(argv: string[]): { seconds: number; targets: string[] } {
  let seconds = 60;
  const targets: string[] = [];
  const rest = [...argv];
  for (let a = rest.shift(); a !== undefined; a = rest.shift()) {
    if (a === '--seconds') {
      const given = rest.shift();
      const v = Number(given);
      if (!Number.isInteger(v) || v < 1) throw new Error(`--seconds needs a whole number of seconds above 0, not ${given}`);
      seconds = v;
    } else if (a.startsWith('-')) {
      throw new Error(`unknown option ${a} (usage: npm run fuzz [-- target…] [--seconds N])`);
    } else {
      targets.push(a);
    }
  }
  return { seconds, targets };
}
