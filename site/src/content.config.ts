// The site's content collections. Every one is filled by a loader that reads the book through the tangler's own
// parser (site/lib/site-data.ts): the chapters (Starlight's `docs`), the tangled files and hand-written sources of
// the file map, and the phase board. No Markdown is parsed here or by Astro.
import { defineCollection, z } from 'astro:content';
import type { Loader } from 'astro/loaders';
import { docsSchema } from '@astrojs/starlight/schema';
import { buildFileMap, includedSources, renderSourceFile, renderTangledFile } from '../lib/filemap.js';
import { chapterStanding } from '../lib/phases.js';
import { saveHighlightCache, useHighlightCache } from '../lib/highlight.js';
import { renderChapter } from '../lib/render-chapter.js';
import { siteData } from '../lib/site-data.js';
import { boardEntrySchema, chunkSchema, fileMapEntrySchema, sourceFileSchema, stampSchema, standingSchema, statusSchema } from '../lib/schemas.js';
import { chapterId } from '../lib/slugs.js';

/** Loads the book once per build and points the highlighter at its cache in Astro's cache directory. */
async function bookData(cacheDir: URL) {
  await useHighlightCache(new URL('highlight-cache.json', cacheDir).pathname);
  return siteData();
}

const chaptersLoader: Loader = {
  name: 'book-chapters',
  async load({ store, parseData, logger, config }) {
    const data = await bookData(config.cacheDir);
    store.clear();
    for (const [i, chapter] of data.book.chapters.entries()) {
      const id = chapterId(chapter.path);
      const { html, headings, lead } = await renderChapter(data.book, chapter, data.xref, data.views);
      const m = chapter.meta;
      // The introduction (A.0) reads better without its id; every other page is named by phase.
      const label = m.phase === 'A.0' ? m.title : `${m.phase} · ${m.title}`;
      const parsed = await parseData({
        id,
        data: {
          title: label,
          description: m.description,
          sidebar: { label, order: i },
          phase: m.phase,
          status: m.status,
          standing: chapterStanding(data.book, chapter, data.phases, data.views),
          topics: m.topics,
          smokes: m.smokes,
          stamp: m.stamp,
          lead,
          chapterPath: chapter.path,
        },
      });
      store.set({ id, data: parsed, rendered: { html, metadata: { headings } } });
    }
    await saveHighlightCache();
    logger.info(`rendered ${data.book.chapters.length} chapters from ${data.inputs.bookRoot}`);
  },
};

const filesLoader: Loader = {
  name: 'book-tangled-files',
  async load({ store, config }) {
    const data = await bookData(config.cacheDir);
    store.clear();
    const map = buildFileMap(data.book, data.tangled);
    for (const file of data.tangled) {
      const entry = map.find((e) => e.path === file.path)!;
      store.set({ id: file.path, data: { ...entry }, rendered: { html: await renderTangledFile(file) } });
    }
    await saveHighlightCache();
  },
};

const sourcesLoader: Loader = {
  name: 'book-included-sources',
  async load({ store, config }) {
    const data = await bookData(config.cacheDir);
    store.clear();
    for (const file of await includedSources(data.book)) {
      store.set({ id: file.path, data: { ...file }, rendered: { html: await renderSourceFile(data.book.root, file) } });
    }
    await saveHighlightCache();
  },
};

const boardLoader: Loader = {
  name: 'book-phase-board',
  async load({ store }) {
    const data = await siteData();
    store.clear();
    for (const [order, row] of data.board.entries()) store.set({ id: row.id, data: { ...row, order } });
  },
};

const chunksLoader: Loader = {
  name: 'book-chunk-index',
  async load({ store }) {
    const data = await siteData();
    store.clear();
    for (const chunk of data.xref.chunks.values()) store.set({ id: chunk.name, data: { ...chunk } });
  },
};

export const collections = {
  docs: defineCollection({
    loader: chaptersLoader,
    schema: docsSchema({
      extend: z.object({
        // Optional because Starlight also applies this schema to the board and file map pages.
        phase: z.string().optional(),
        status: statusSchema.optional(),
        topics: z.array(z.string()).optional(),
        smokes: z.array(z.string()).optional(),
        stamp: stampSchema.optional(),
        lead: z.string().optional(),
        chapterPath: z.string().optional(),
        standing: standingSchema.optional(),
      }),
    }),
  }),
  files: defineCollection({ loader: filesLoader, schema: fileMapEntrySchema }),
  sources: defineCollection({ loader: sourcesLoader, schema: sourceFileSchema }),
  chunks: defineCollection({ loader: chunksLoader, schema: chunkSchema }),
  board: defineCollection({ loader: boardLoader, schema: boardEntrySchema }),
};
