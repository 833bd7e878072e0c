// Diagnostics: every problem in the book becomes a vfile message that names the chapter file,
// line and column, carries a rule id and a fix hint, and is collected rather than thrown, so a
// contributor sees every error of a run at once.
import { VFile } from 'vfile';
import { VFileMessage, type Options as MessageOptions } from 'vfile-message';

export interface Place {
  chapter: string;
  line: number;
  column?: number;
}

export interface Problem {
  reason: string;
  ruleId: string;
  /** How to fix it, one sentence. */
  hint: string;
  /** A related place, e.g. where a file was first claimed. */
  cause?: Place & { reason: string };
}

/** Report a fatal problem on a vfile (what the remark plugins use). */
export function fail(file: VFile, place: { line: number; column?: number }, problem: Problem): VFileMessage {
  const options: MessageOptions = {
    place: { line: place.line, column: place.column ?? 1 },
    ruleId: problem.ruleId,
    source: 'tangle',
  };
  if (problem.cause) options.cause = causeMessage(problem.cause);
  const message = file.message(problem.reason, options);
  message.fatal = true;
  message.note = problem.hint;
  return message;
}

function causeMessage(cause: Place & { reason: string }): VFileMessage {
  const message = new VFileMessage(cause.reason, { place: { line: cause.line, column: cause.column ?? 1 } });
  message.file = cause.chapter;
  message.name = `${cause.chapter}:${message.name}`;
  return message;
}

/** Collects problems found across chapters (book-level checks), one vfile per chapter path. */
export class Diagnostics {
  private readonly files = new Map<string, VFile>();
  private readonly seen = new Set<string>();
  private readonly extra: VFileMessage[] = [];

  error(place: Place, problem: Problem): void {
    const key = `${place.chapter}:${place.line}:${place.column ?? 1}:${problem.ruleId}:${problem.reason}`;
    if (this.seen.has(key)) return; // the same reference reached twice through expansion
    this.seen.add(key);
    fail(this.file(place.chapter), place, problem);
  }

  /** Take over messages produced elsewhere (e.g. by the remark plugins). */
  adopt(messages: readonly VFileMessage[]): void {
    for (const message of messages) {
      const key = `${message.file}:${message.line}:${message.column}:${message.ruleId}:${message.reason}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.extra.push(message);
    }
  }

  get messages(): VFileMessage[] {
    const all = [...this.extra];
    for (const file of this.files.values()) all.push(...file.messages);
    return sortMessages(all.filter((m) => m.fatal === true));
  }

  get ok(): boolean {
    return this.messages.length === 0;
  }

  private file(chapter: string): VFile {
    let file = this.files.get(chapter);
    if (!file) {
      file = new VFile({ path: chapter });
      this.files.set(chapter, file);
    }
    return file;
  }
}

export function sortMessages(messages: VFileMessage[]): VFileMessage[] {
  return [...messages].sort((a, b) => (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** `chapters/x.md:12:1: reason. Fix: hint. [rule-id]` — one line per problem, grep and editor friendly. */
export function formatMessage(message: VFileMessage): string {
  const where = `${message.file || '<unknown>'}:${message.line ?? 1}:${message.column ?? 1}`;
  const hint = message.note ? ` Fix: ${message.note}.` : '';
  return `${where}: ${message.reason}.${hint} [${message.ruleId ?? 'error'}]`;
}

/** Thrown by loadBook / tangleBook when the book has problems; nothing has been written. */
export class BookError extends Error {
  readonly messages: VFileMessage[];
  constructor(messages: VFileMessage[]) {
    const sorted = sortMessages(messages);
    super(`${sorted.length} problem${sorted.length === 1 ? '' : 's'} in the book:\n${sorted.map(formatMessage).join('\n')}`);
    this.name = 'BookError';
    this.messages = sorted;
  }
}
