// Line numbers of a marked region in a hand-written file (`// region: name` … `// endregion: name`), so the site
// can number an include block with the file's own lines. The tangler cuts the region text itself (Block.value);
// this accepts the same comment leaders it does.
const MARKER = /^\s*(?:\/\/+|#+|;;+|--|\/\*|<!--)\s*(region|endregion):\s*(.+?)\s*(?:\*\/|-->)?\s*$/;

export interface RegionLines { start: number; end: number }

/** First and last line (1-based) of the region's body, or undefined when the markers are missing. */
export function regionLines(source: string, region: string | undefined): RegionLines | undefined {
  const lines = source.replace(/\n$/, '').split('\n');
  if (region === undefined) return { start: 1, end: lines.length };
  let start: number | undefined;
  for (const [i, line] of lines.entries()) {
    const m = MARKER.exec(line);
    if (!m || m[2] !== region) continue;
    if (m[1] === 'region' && start === undefined) start = i + 2;
    else if (m[1] === 'endregion' && start !== undefined) return { start, end: i };
  }
  return undefined;
}
