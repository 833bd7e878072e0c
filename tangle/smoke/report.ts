// Human output of a smoke run: the summary table and the failures with their chapter:line.
import { formatFailure } from './check.js';
import { allAssertions, type SmokeResult } from './result.js';

export function summaryTable(results: SmokeResult[]): string {
  const rows = [['smoke', 'ok', 'passed', 'exit', 'accel', 'boot', 'total']];
  for (const r of results) {
    const all = allAssertions(r);
    const passed = all.filter((a) => a.ok).length;
    // One column entry per boot, joined: `0` for one boot, `0,0` for two.
    const exits = r.boots.map((b) => (b.timedOut ? 'timeout' : b.exitStatus === null ? `qemu ${b.qemuStatus ?? '?'}` : String(b.exitStatus)));
    rows.push([
      r.name,
      r.ok ? 'ok' : 'FAIL',
      `${passed}/${all.length}`,
      exits.join(','),
      r.accelerator,
      r.boots.map((b) => `${b.bootMs} ms`).join(' + '),
      `${r.totalMs} ms`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const fmt = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(fmt)].join('\n');
}

export function failures(r: SmokeResult): string[] {
  return allAssertions(r)
    .filter((a) => !a.ok)
    .map((a) => formatFailure(r.chapter, a));
}
