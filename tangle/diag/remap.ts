// Diagnostics at chapter lines: a tool that compiles a tangled file (rustc through cargo, clang, Go, cue,
// mkmanifest, wat2wasm) names positions in the generated file, which nobody should edit. The tangle map says which
// chapter line every generated line came from, so each `path:line:col` a tool prints is rewritten to
// `chapters/x.md:LINE:COL [path:line:col]`: the chapter position first, for the editor, and the generated one kept
// in brackets. A line expanded from a chunk maps to the chunk's own line, and the column loses the indentation the
// reference added. Chapter A.2 ("Errors from the tools") documents this.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { MapRange, TangledFile } from '../parse/model.js';

export interface ChapterPlace {
  chapter: string;
  line: number;
  column?: number;
}

/** Looks generated positions up in the tangle map. */
export class TangleMap {
  private readonly files: Map<string, MapRange[]>;

  constructor(
    readonly root: string,
    files: Iterable<[string, MapRange[]]>,
  ) {
    this.files = new Map(files);
  }

  static fromTangled(root: string, tangled: readonly TangledFile[]): TangleMap {
    return new TangleMap(
      root,
      tangled.map((f) => [f.path, f.ranges]),
    );
  }

  /** From the JSON `npm run tangle` writes (build/tangle-map.json). */
  static fromJson(root: string, json: string): TangleMap {
    const data = JSON.parse(json) as Record<string, MapRange[]>;
    return new TangleMap(root, Object.entries(data));
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /** The chapter place of `line` (and `column`) of the tangled file `path`, or undefined if it is not tangled. */
  place(path: string, line: number, column?: number): ChapterPlace | undefined {
    const range = this.files.get(path)?.find((r) => r.startLine <= line && line <= r.endLine);
    if (!range) return undefined;
    const at: ChapterPlace = { chapter: range.chapter, line: range.chapterLine + (line - range.startLine) };
    if (column !== undefined) at.column = Math.max(1, column - (range.indent ?? 0));
    return at;
  }

  /** A tool's path (relative to one of `bases`, or absolute) as a repository path that the book tangles. */
  resolvePath(file: string, bases: readonly string[]): string | undefined {
    const tries = isAbsolute(file) ? [file] : bases.map((b) => resolve(this.root, b, file));
    for (const abs of tries) {
      const rel = relative(this.root, abs).split(sep).join(posix.sep);
      if (this.files.has(rel)) return rel;
    }
    return undefined;
  }

  /** `chapters/x.md:L:C [generated:l:c]` for a generated position, or undefined when the file is not tangled. */
  describe(file: string, line: number, column: number | undefined, bases: readonly string[]): string | undefined {
    const path = this.resolvePath(file, bases);
    if (!path) return undefined;
    const at = this.place(path, line, column);
    if (!at) return undefined;
    const generated = `${path}:${line}${column === undefined ? '' : `:${column}`}`;
    return `${at.chapter}:${at.line}${at.column === undefined ? '' : `:${at.column}`} [${generated}]`;
  }

  /**
   * Every `path:line[:col]` in `text` whose path is a tangled file (relative to one of `bases`, repository-relative
   * folders, or absolute) rewritten to its chapter place. Anything else is left exactly as it was.
   */
  rewrite(text: string, bases: readonly string[] = ['.']): string {
    return text.replace(
      POSITION,
      (match: string, file: string, line: string, column: string | undefined) =>
        this.describe(file, Number(line), column === undefined ? undefined : Number(column), bases) ?? match,
    );
  }
}

/** A file path (no spaces or colons) ending in an extension, then `:line` and optionally `:column`. */
const POSITION = /((?:\.{0,2}\/)?(?:[\w.@+-]+\/)*[\w@+-][\w.@+-]*\.[A-Za-z]+):(\d+)(?::(\d+))?/g;

/** The map the last `npm run tangle` wrote (build/tangle-map.json); an empty map when there is none yet. */
export async function loadTangleMap(root: string): Promise<TangleMap> {
  const json = await readFile(join(root, 'build/tangle-map.json'), 'utf8').catch(() => undefined);
  return json === undefined ? new TangleMap(root, []) : TangleMap.fromJson(root, json);
}

/** Turns one raw output line of a tool into the lines to show (and log): what `runTool` calls `translate`. */
export type LineTranslator = (line: string) => string[];

/** Plain tool output (clang, wat2wasm, Go, cue, mkmanifest): positions rewritten, relative to `bases`. */
export function textTranslator(map: TangleMap, bases: readonly string[]): LineTranslator {
  return (line) => [map.rewrite(line, bases)];
}

interface CargoMessage {
  reason?: string;
  manifest_path?: string;
  message?: { rendered?: string | null };
}

/**
 * `cargo --message-format=json`: each compiler message is shown as rustc renders it, with its positions rewritten
 * relative to the package's folder (where rustc ran) and the workspace's; artifact and build-script records are
 * dropped, and cargo's own lines (Compiling …, error: could not compile …) pass through rewritten.
 */
export function cargoTranslator(map: TangleMap, workspace: string): LineTranslator {
  return (line) => {
    if (!line.startsWith('{')) return [map.rewrite(line, [workspace, '.'])];
    let record: CargoMessage;
    try {
      record = JSON.parse(line) as CargoMessage;
    } catch {
      return [map.rewrite(line, [workspace, '.'])];
    }
    if (record.reason !== 'compiler-message') return [];
    const rendered = record.message?.rendered;
    if (!rendered) return [];
    const packageDir = record.manifest_path ? posix.dirname(record.manifest_path.split(sep).join(posix.sep)) : workspace;
    return map.rewrite(rendered.replace(/\n+$/, ''), [packageDir, workspace, '.']).split('\n');
  };
}
