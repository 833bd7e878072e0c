// Syntax highlighting with shiki (the highlighter Astro itself uses), producing hast so callers can decorate each
// line (ids, chapter line numbers, chunk reference links) before the page is serialised.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Element, ElementContent, Nodes } from 'hast';
import { createHighlighter, type Highlighter } from 'shiki';
import { visit } from 'unist-util-visit';

const LANGS = ['rust', 'c', 'go', 'toml', 'yaml', 'shellscript', 'json', 'typescript', 'wasm', 'cue', 'markdown'];
/** Info-string languages the book uses, mapped to shiki's names. */
const ALIASES: Record<string, string> = {
  rs: 'rust',
  sh: 'shellscript',
  bash: 'shellscript',
  shell: 'shellscript',
  ts: 'typescript',
  wat: 'wasm',
  yml: 'yaml',
  h: 'c',
  md: 'markdown',
};

let highlighter: Promise<Highlighter> | undefined;

function load(): Promise<Highlighter> {
  highlighter ??= createHighlighter({ themes: ['github-light', 'github-dark'], langs: LANGS });
  return highlighter;
}

export function shikiLang(lang: string): string {
  const l = lang.toLowerCase();
  const name = ALIASES[l] ?? l;
  return LANGS.includes(name) ? name : 'text';
}

export interface LineInfo {
  /** 1-based index within the highlighted text. */
  index: number;
  /** The source text of the line. */
  text: string;
}

/**
 * Highlights `code` and returns the `<pre>` element. `decorate` may rewrite each line's element (it receives the
 * `span.line` and the line's text); empty lines keep their element so every source line has one.
 */
export async function highlight(code: string, lang: string, decorate?: (line: Element, info: LineInfo) => void): Promise<Element> {
  const name = shikiLang(lang);
  const key = createHash('sha1').update(`${name}\0${code}`).digest('hex');
  let plain = cache.entries.get(key);
  if (!plain) {
    const h = await load();
    const root = h.codeToHast(code, { lang: name, themes: { light: 'github-light', dark: 'github-dark' }, defaultColor: 'light' });
    plain = root.children.find((c): c is Element => c.type === 'element' && c.tagName === 'pre');
    if (!plain) throw new Error('shiki returned no <pre> element');
    normalizeClasses(plain);
    cache.entries.set(key, plain);
  }
  cache.used.add(key);
  const pre = structuredClone(plain);
  if (decorate) {
    const lines = code.split('\n');
    const codeEl = pre.children.find((c): c is Element => c.type === 'element' && c.tagName === 'code');
    let index = 0;
    for (const line of codeEl?.children ?? []) {
      const cls = line.type === 'element' ? line.properties.className : undefined;
      if (line.type !== 'element' || !Array.isArray(cls) || !cls.includes('line')) continue;
      index++;
      decorate(line, { index, text: lines[index - 1] ?? '' });
    }
  }
  tokenClasses(pre);
  return pre;
}

/** Shiki's hast carries `class` strings; hast (and hastscript, and our decorators) use `className` lists. */
function normalizeClasses(tree: Element): void {
  visit(tree, 'element', (el: Element) => {
    const cls = el.properties.class;
    if (typeof cls !== 'string') return;
    delete el.properties.class;
    el.properties.className = cls.split(/\s+/).filter(Boolean);
  });
}

/**
 * Highlighting is most of a build's time (shiki's grammars run on WebAssembly regexes), and most code does not
 * change between builds. Highlighted blocks are kept by hash of language and text in a JSON file in Astro's cache
 * directory; a build saves only the entries it used, so the file never outgrows the book.
 */
const cache = { file: undefined as string | undefined, entries: new Map<string, Element>(), used: new Set<string>() };

export async function useHighlightCache(file: string): Promise<void> {
  if (cache.file === file) return;
  cache.file = file;
  try {
    cache.entries = new Map(Object.entries(JSON.parse(await readFile(file, 'utf8')) as Record<string, Element>));
  } catch {
    cache.entries = new Map();
  }
}

let saving: Promise<void> = Promise.resolve();

/** Saves the entries used so far. Loaders run in parallel, so saves are queued: the last one has everything. */
export function saveHighlightCache(): Promise<void> {
  saving = saving.then(writeCache, writeCache);
  return saving;
}

async function writeCache(): Promise<void> {
  if (!cache.file) return;
  const out: Record<string, Element> = {};
  for (const key of cache.used) {
    const entry = cache.entries.get(key);
    if (entry) out[key] = entry;
  }
  await mkdir(path.dirname(cache.file), { recursive: true });
  const tmp = `${cache.file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(out));
  await rename(tmp, cache.file);
}

/**
 * Shiki writes each token's two colours inline (`style="color:#D73A49;--shiki-dark:#F97583"`), which makes a long
 * chapter weigh several hundred KB. Each distinct style becomes a short class named after its hash instead;
 * tokenStyleSheet() then emits the rules a page uses.
 */
const TOKEN_STYLES = new Map<string, string>();

function tokenClasses(pre: Element): void {
  visit(pre, 'element', (el: Element) => {
    if (el === pre || el.tagName !== 'span' || typeof el.properties.style !== 'string') return;
    const style = el.properties.style;
    const cls = `k${createHash('sha1').update(style).digest('hex').slice(0, 6)}`;
    TOKEN_STYLES.set(cls, style);
    delete el.properties.style;
    const old = el.properties.className;
    el.properties.className = [...(Array.isArray(old) ? old.map(String) : old ? [String(old)] : []), cls];
  });
}

/** A `<style>` element with the rules for the token classes used in `tree` (none if it has no highlighted code). */
export function tokenStyleSheet(tree: Nodes): Element | undefined {
  const used = new Set<string>();
  visit(tree, 'element', (el: Element) => {
    const cls = el.properties.className;
    if (Array.isArray(cls)) for (const c of cls) if (typeof c === 'string' && TOKEN_STYLES.has(c)) used.add(c);
  });
  if (used.size === 0) return undefined;
  const rules = [...used]
    .sort()
    .map((c) => `.${c}{${TOKEN_STYLES.get(c)}}`)
    .join('');
  return { type: 'element', tagName: 'style', properties: {}, children: [{ type: 'text', value: rules }] };
}

/** Line elements joined with newlines, as inside a `<pre><code>`. */
export function joinLines(lines: Element[]): ElementContent[] {
  const out: ElementContent[] = [];
  lines.forEach((l, i) => {
    if (i > 0) out.push({ type: 'text', value: '\n' });
    out.push(l);
  });
  return out;
}
