// Where tangled files may go. Everything else in the repository is hand-written (capos/, tangle/,
// site/), so a chapter that names such a path is refused instead of silently overwriting it.
import { posix } from 'node:path';

export const TANGLED_ROOTS = ['capos-wasm/', 'demos/', 'manifests/'] as const;

/** Why `path` is not an acceptable repository-relative target, or undefined if it is. */
export function badRelativePath(path: string): string | undefined {
  if (path === '') return 'an empty path';
  if (path.includes('\\')) return 'a path with a backslash';
  if (posix.isAbsolute(path)) return 'an absolute path';
  if (path.split('/').some((part) => part === '..' || part === '.' || part === '')) return 'a path with `.`, `..` or an empty segment';
  return undefined;
}

export function isTangledPath(path: string): boolean {
  return TANGLED_ROOTS.some((root) => path.startsWith(root));
}

/** `chapters/11-w1-scaffold.md` for any vfile path that points into a chapters/ folder. */
export function chapterPathOf(path: string | undefined): string {
  if (!path) return 'chapters/<unknown>.md';
  const normalized = path.replace(/\\/g, '/');
  const at = normalized.lastIndexOf('chapters/');
  return at >= 0 ? normalized.slice(at) : normalized;
}
