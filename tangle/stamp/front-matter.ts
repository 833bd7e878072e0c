// Write `status: done` and `stamp: { commit, time }` into a chapter's front matter by editing
// just those lines, so every other byte (comments, key order, quoting, folding) stays as written.
import type { Stamp } from '../parse/model.js';

export function stampFrontMatter(source: string, stamp: Stamp): string {
  const lines = source.split('\n');
  if (lines[0] !== '---') throw new Error('the chapter does not start with a `---` front matter block');
  const end = lines.indexOf('---', 1);
  if (end < 0) throw new Error('the front matter has no closing `---`');
  const head = lines.slice(1, end);
  const stampLine = `stamp: { commit: "${stamp.commit}", time: "${stamp.time}" }`;

  // Drop an existing stamp: its key line and any indented continuation lines.
  const at = head.findIndex((line) => /^stamp\s*:/.test(line));
  if (at >= 0) {
    let stop = at + 1;
    while (stop < head.length && /^[ \t]/.test(head[stop]!)) stop++;
    head.splice(at, stop - at);
  }
  const status = head.findIndex((line) => /^status\s*:/.test(line));
  if (status < 0) throw new Error('the front matter has no `status:` line');
  head[status] = 'status: done';
  head.splice(status + 1, 0, stampLine);
  return ['---', ...head, ...lines.slice(end)].join('\n');
}

/** `YYYY-MM-DD HH:MM UTC`. */
export function stampTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
