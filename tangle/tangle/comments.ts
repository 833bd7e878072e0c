// The first-line header that marks a tangled file, in the comment syntax of its file type.
// Files without comments (JSON, unknown types) get no header; the tangle map still covers them.
import { posix } from 'node:path';

interface CommentSyntax {
  open: string;
  close: string;
}

const LINE = (open: string): CommentSyntax => ({ open, close: '' });
const BY_EXTENSION: Record<string, CommentSyntax> = {
  '.rs': LINE('//'),
  '.c': LINE('//'),
  '.h': LINE('//'),
  '.go': LINE('//'),
  '.cue': LINE('//'),
  '.wit': LINE('//'),
  '.ts': LINE('//'),
  '.js': LINE('//'),
  '.capnp': LINE('#'),
  '.ld': { open: '/*', close: ' */' },
  '.wat': LINE(';;'),
  '.wast': LINE(';;'),
  '.toml': LINE('#'),
  '.yaml': LINE('#'),
  '.yml': LINE('#'),
  '.sh': LINE('#'),
  '.py': LINE('#'),
  '.archive': LINE('#'),
  '.md': { open: '<!--', close: ' -->' },
};
const BY_NAME: Record<string, CommentSyntax> = {
  Makefile: LINE('#'),
  'go.mod': LINE('//'),
  '.gitignore': LINE('#'),
};

export function commentSyntax(path: string): CommentSyntax | undefined {
  const base = posix.basename(path);
  return BY_NAME[base] ?? BY_EXTENSION[posix.extname(base)];
}

/** The header line for `path`, or undefined when the file type has no comments. */
export function headerLine(path: string, chapters: readonly string[]): string | undefined {
  const syntax = commentSyntax(path);
  if (!syntax) return undefined;
  const text =
    chapters.length === 1
      ? `Tangled from ${chapters[0]}; edit the chapter, not this file.`
      : `Tangled from ${chapters.slice(0, -1).join(', ')} and ${chapters.at(-1)}; edit the chapters, not this file.`;
  return `${syntax.open} ${text}${syntax.close}`;
}
