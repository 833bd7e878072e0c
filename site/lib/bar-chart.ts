// A report table's chart as static SVG, made at build time (no script on the page): one group per row, its label
// above, one horizontal bar per plotted column with the value and unit at its end. Bars scale to the row's largest
// value (`row`: the rows measure different things) or to the table's (`table`: one unit throughout). Colours come
// from CSS classes (.bar-series-N in book.css), so the chart follows the site's light and dark themes.
import { showCell, type ReportTable } from '../../tangle/index.js';

const WIDTH = 720;
const BAR = 14;
const GAP = 4;
const LABEL = 18;
const GROUP_GAP = 10;
const VALUE_ROOM = 150;
const LEGEND = 24;

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The SVG markup for the table's chart, or undefined when it has none or nothing to plot. */
export function barChart(t: ReportTable): string | undefined {
  const chart = t.chart;
  if (!chart) return undefined;
  const num = (row: (number | string | null)[], c: number) => {
    const v = row[c];
    return typeof v === 'number' ? v : undefined;
  };
  const values = t.rows.flatMap((r) => chart.columns.map((c) => num(r, c))).filter((v): v is number => v !== undefined && v > 0);
  if (values.length === 0) return undefined;
  const tableMax = Math.max(...values);
  const span = WIDTH - VALUE_ROOM;
  const parts: string[] = [];
  chart.columns.forEach((c, i) => {
    const x = i * 200;
    parts.push(
      `<rect class="bar-series-${i}" x="${x}" y="4" width="12" height="12" rx="2"/>`,
      `<text class="bar-legend" x="${x + 18}" y="14">${escapeXml(t.columns[c]!.label)}</text>`,
    );
  });
  let y = LEGEND;
  t.rows.forEach((row) => {
    const label = String(row[0] ?? '');
    const unit = chart.unitColumn !== undefined ? String(row[chart.unitColumn] ?? '') : (chart.unit ?? '');
    const rowMax = Math.max(0, ...chart.columns.map((c) => num(row, c) ?? 0));
    const max = chart.scale === 'row' ? rowMax : tableMax;
    parts.push(`<text class="bar-label" x="0" y="${y + 13}">${escapeXml(label)}</text>`);
    y += LABEL;
    chart.columns.forEach((c, i) => {
      const v = num(row, c);
      const w = v !== undefined && max > 0 ? Math.max(1, (v / max) * span) : 0;
      const shown = v === undefined ? showCell(row[c] ?? null) : `${showCell(v)}${unit ? ` ${unit}` : ''}`;
      parts.push(
        `<g class="bar" data-row="${escapeXml(label)}" data-column="${escapeXml(t.columns[c]!.label)}"${v !== undefined ? ` data-value="${v}"` : ''}>` +
          (w > 0 ? `<rect class="bar-series-${i}" x="0" y="${y}" width="${w.toFixed(1)}" height="${BAR}" rx="2"/>` : '') +
          `<text class="bar-value" x="${(w + 6).toFixed(1)}" y="${y + 11}">${escapeXml(shown)}</text></g>`,
      );
      y += BAR + GAP;
    });
    y += GROUP_GAP;
  });
  const title = `${t.title}${chart.scale === 'row' ? ' (each row scaled to its own largest value)' : ''}`;
  return (
    `<svg class="bar-chart" role="img" aria-label="${escapeXml(title)}" viewBox="0 0 ${WIDTH} ${y}" width="100%" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeXml(title)}</title>${parts.join('')}</svg>`
  );
}
