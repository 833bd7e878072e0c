// Human output of a smoke run: the summary table and the failures with their chapter:line.
import { formatFailure } from './check.js';
import type { SmokeResult } from './result.js';

export function summaryTable(results: SmokeResult[]): string {
  const rows = [['smoke', 'ok', 'passed', 'exit', 'accel', 'boot', 'total']];
  for (const r of results) {
    const passed = r.assertions.filter((a) => a.ok).length;
    rows.push([r.name, r.ok ? 'ok' : 'FAIL', `${passed}/${r.assertions.length}`,
      r.timedOut ? 'timeout' : r.exitStatus === null ? `qemu ${r.qemuStatus ?? '?'}` : String(r.exitStatus),
      r.accelerator, `${r.bootMs} ms`, `${r.totalMs} ms`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}

export function failures(r: SmokeResult): string[] {
  return r.assertions.filter((a) => !a.ok).map((a) => formatFailure(r.chapter, a));
}
