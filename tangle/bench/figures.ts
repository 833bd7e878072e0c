// Benchmark figures come from the guests themselves: a bench service prints one serial line per figure,
//   [<process>] bench <metric> <value> <unit>        e.g. `[bench-call] bench call-roundtrip 1834 ns`
// and the harness collects them over several boots and reports the median.

export interface Figure {
  process: string;
  metric: string;
  value: number;
  unit: string;
}

const FIGURE = /^\[([^\]]+)\] bench (\S+) (-?\d+(?:\.\d+)?) (\S+)$/;

export function parseFigures(transcript: string[]): Figure[] {
  const out: Figure[] = [];
  for (const line of transcript) {
    const m = FIGURE.exec(line);
    if (m) out.push({ process: m[1]!, metric: m[2]!, value: Number(m[3]), unit: m[4]! });
  }
  return out;
}

export interface Summary {
  metric: string;
  unit: string;
  runs: number;
  median: number;
  min: number;
  max: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One summary per (metric, unit) over all boots' figures, in first-seen order. */
export function summarize(figures: Figure[]): Summary[] {
  const groups = new Map<string, Figure[]>();
  for (const f of figures) {
    const k = `${f.metric}\0${f.unit}`;
    groups.set(k, [...(groups.get(k) ?? []), f]);
  }
  return [...groups.values()].map((fs) => {
    const v = fs.map((f) => f.value);
    return { metric: fs[0]!.metric, unit: fs[0]!.unit, runs: v.length, median: median(v), min: Math.min(...v), max: Math.max(...v) };
  });
}
