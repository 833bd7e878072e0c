// The content collections' schemas, one per model type the loaders store. Each is checked against its TypeScript
// type (`satisfies z.ZodType<T>`), so a field added to the model and not here, or typed differently, fails the
// typecheck; the pages then read typed entries with no casts.
import { z } from 'astro/zod';
import { STATUSES, type Stamp, type Status } from '../../tangle/index.js';
import type { FileMapEntry, SourceFile, Writer } from './filemap.js';
import type { BoardRow, BoardSmoke, Standing } from './phases.js';
import type { SmokeState } from './results.js';
import type { BlockRef, ChunkXref } from './xref.js';

export const statusSchema = z.enum(STATUSES as [Status, ...Status[]]) satisfies z.ZodType<Status>;
export const stampSchema = z.object({ commit: z.string(), time: z.string() }) satisfies z.ZodType<Stamp>;
export const standingSchema = z.object({ status: statusSchema, claimed: statusSchema.optional(), note: z.string().optional() }) satisfies z.ZodType<Standing>;

const writerSchema = z.object({
  chapter: z.string(),
  chapterTitle: z.string(),
  phase: z.string(),
  chapterLine: z.number(),
  block: z.string(),
  lines: z.number(),
  href: z.string(),
}) satisfies z.ZodType<Writer>;
export const fileMapEntrySchema = z.object({ path: z.string(), lines: z.number(), writers: z.array(writerSchema) }) satisfies z.ZodType<FileMapEntry>;

const regionSchema = z.object({ name: z.string(), start: z.number(), end: z.number(), href: z.string(), by: z.string() });
export const sourceFileSchema = z.object({ path: z.string(), regions: z.array(regionSchema) }) satisfies z.ZodType<SourceFile>;

const blockRefSchema = z.object({
  chapter: z.string(),
  chapterTitle: z.string(),
  phase: z.string(),
  line: z.number(),
  href: z.string(),
}) satisfies z.ZodType<BlockRef>;
export const chunkSchema = z.object({ name: z.string(), blocks: z.array(blockRefSchema), uses: z.array(blockRefSchema) }) satisfies z.ZodType<ChunkXref>;

const smokeStateSchema = z.enum(['pass', 'fail', 'stale', 'missing']) satisfies z.ZodType<SmokeState>;
const boardSmokeSchema = z.object({
  name: z.string(),
  state: smokeStateSchema,
  reason: z.string(),
  href: z.string().optional(),
}) satisfies z.ZodType<BoardSmoke>;
const boardRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  demos: z.array(z.string()),
  status: statusSchema,
  claimed: statusSchema.optional(),
  note: z.string().optional(),
  chapter: z.object({ path: z.string(), title: z.string(), href: z.string() }).optional(),
  stamp: stampSchema.optional(),
  smokes: z.array(boardSmokeSchema),
  appendix: z.boolean().optional(),
}) satisfies z.ZodType<BoardRow>;
/** A board row and its place on the board. */
export const boardEntrySchema = boardRowSchema.extend({ order: z.number() });
