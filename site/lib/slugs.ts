// One place that decides every URL of the site, so links made by the chapter renderer, the phase board and the
// file map always agree with the routes Astro generates.
import path from 'node:path';

/** 'chapters/11-w1-scaffold.md' → 'chapters/11-w1-scaffold' (the Starlight entry id and route). */
export function chapterId(chapterPath: string): string {
  return `chapters/${path.basename(chapterPath, '.md')}`;
}

export function chapterHref(chapterPath: string, line?: number): string {
  return `/${chapterId(chapterPath)}/${line === undefined ? '' : `#L${line}`}`;
}

/** The anchor of a smoke's result panel on its chapter page. */
export function smokeAnchor(name: string): string {
  return `smoke-${name}`;
}

export function smokeHref(chapterPath: string, name: string): string {
  return `/${chapterId(chapterPath)}/#${smokeAnchor(name)}`;
}

/** A tangled file's page in the file map. */
export function tangledHref(file: string, line?: number): string {
  return `/files/${file}/${line === undefined ? '' : `#L${line}`}`;
}

/** A hand-written file shown because an include block names it. */
export function sourceHref(file: string, line?: number): string {
  return `/source/${file}/${line === undefined ? '' : `#L${line}`}`;
}
