// The performance page's data: every comparison `npm run bench` publishes (REPORT_KINDS), each with its report from
// the bench directory when there is one, and a state a reader can trust. A report is current only when every input it
// recorded hashes now as it did when it was measured (the same hashInput the bench used); otherwise it is stale,
// naming what changed, and a comparison that was never measured here is missing. Reports the bench directory holds
// for other ids are shown too, judged the same way.
import { readJsonDir } from './json-dir.js';
import { hashInput, REPORT_KINDS, validateReport, type Report, type ReportKind } from '../../tangle/index.js';

export type ReportState = 'current' | 'stale' | 'missing';

export interface ReportView {
  id: string;
  title: string;
  chapter: string;
  command: string;
  state: ReportState;
  /** Why the state is what it is, as a sentence. */
  reason: string;
  report?: Report;
}

/** Every report in `dir`, by id; a file that does not parse or validate throws, naming the file. */
export async function loadReports(dir: string): Promise<Map<string, Report>> {
  const out = new Map<string, Report>();
  for (const { name, file, json } of await readJsonDir(dir, 'bench report')) {
    const report = validateReport(json, file);
    if (`${report.id}.json` !== name) throw new Error(`malformed bench report ${file}: id ${JSON.stringify(report.id)} does not match the file name`);
    out.set(report.id, report);
  }
  return out;
}

/** The inputs whose contents differ from when the report was measured (a vanished or new path counts). */
export async function changedInputs(bookRoot: string, report: Report): Promise<string[]> {
  const now = await Promise.all(report.inputs.map(async (i) => ({ path: i.path, same: (await hashInput(bookRoot, i.path)) === i.sha256 })));
  return now.filter((i) => !i.same).map((i) => i.path);
}

async function viewOf(kind: Omit<ReportKind, 'inputs'>, report: Report | undefined, bookRoot: string): Promise<ReportView> {
  const base = { id: kind.id, title: kind.title, chapter: kind.chapter, command: kind.command };
  if (!report) return { ...base, state: 'missing', reason: `not measured in this checkout: run ${kind.command}` };
  const changed = await changedInputs(bookRoot, report);
  if (changed.length > 0) return { ...base, report, state: 'stale', reason: `${changed.join(', ')} changed since these figures were taken` };
  if (report.inputs.length === 0) return { ...base, report, state: 'stale', reason: 'the report names no inputs, so nothing shows it is current' };
  return { ...base, report, state: 'current', reason: `every input is as it was when measured${report.dirty ? ' (on a tree with uncommitted changes)' : ''}` };
}

export async function reportViews(bookRoot: string, benchDir: string): Promise<ReportView[]> {
  const reports = await loadReports(benchDir);
  const kinds: Omit<ReportKind, 'inputs'>[] = Object.values(REPORT_KINDS);
  const known = new Set(kinds.map((k) => k.id));
  const extra = [...reports.values()].filter((r) => !known.has(r.id));
  return Promise.all([...kinds, ...extra].map((k) => viewOf(k, reports.get(k.id), bookRoot)));
}
