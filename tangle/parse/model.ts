// The book's data model, described for contributors in chapter A.2 (chapters/91-a2-chapter-format.md):
// the site, the build and the smoke runner code against them.

export type Status = 'planned' | 'in-progress' | 'done' | 'blocked';

/** A closed chapter: the short commit its smokes were green at, and when it was stamped. */
export interface Stamp {
  commit: string;
  time: string;
} // 'abcd1234', '2026-05-10 19:39 UTC'

export interface ChapterMeta {
  phase: string;
  title: string;
  status: Status;
  description: string;
  topics: string[];
  smokes: string[];
  stamp?: Stamp;
}

/** What every fenced block has, whatever its kind. */
interface BlockBase {
  lang: string;
  attrs: Record<string, string | true>;
  /** The block body; for an include block, the included region once the book is loaded. */
  value: string;
  chapter: string; // 'chapters/11-w1-scaffold.md'
  line: number; // opening fence line, 1-based
  bodyLine: number; // first body line
}

/** `file=path [append]`: writes (or continues) a tangled file. */
export interface FileBlock extends BlockBase {
  kind: 'file';
  target: string;
  append: boolean;
}
/** `chunk=name [append]`: defines (or extends) a named chunk. */
export interface ChunkBlock extends BlockBase {
  kind: 'chunk';
  target: string;
  append: boolean;
}
/** `include=path [region=name]`: shows part of a hand-written file. */
export interface IncludeBlock extends BlockBase {
  kind: 'include';
  target: string;
  region?: string;
}
/** ```` ```smoke name=… ```` : a boot test; `target` is its name. */
export interface SmokeBlock extends BlockBase {
  kind: 'smoke';
  target: string;
}
/** No target: illustration only (also what a block with an unusable target is demoted to). */
export interface PlainBlock extends BlockBase {
  kind: 'plain';
}

/** A fenced code block, keyed on its kind (chapter A.2, "Code blocks"). */
export type Block = FileBlock | ChunkBlock | IncludeBlock | SmokeBlock | PlainBlock;
export type BlockKind = Block['kind'];

export interface Matcher {
  kind: 'exact' | 'regex';
  text: string;
  line: number /* chapter line */;
}

export type Step =
  | { kind: 'line'; matcher: Matcher }
  | { kind: 'unordered'; line: number; matchers: Matcher[] }
  /** `= "prefix" cue export <file>`: the lines another tool prints, computed at smoke time (chapter A.2) */
  | { kind: 'computed'; line: number; prefix: string; tool: 'cue export'; file: string };

/** What one boot of a smoke must show: the first boot's comes from the top of the block, each later one from a
 * `boot:` directive and the lines after it. */
export interface BootSpec {
  manifest: string;
  exit: number;
  steps: Step[];
  forbid: Matcher[];
  /** chapter line of the block (first boot) or of its `boot:` directive */
  line: number;
  /** what the runner does to the disk around this boot (`boot: m.cue log|replay|flip=…`; appendix A.7) */
  disk?: DiskAction;
}

/** What the smoke runner does on the host while a boot runs (chapter W.6): once the guest printed `after` exactly,
 * send one HTTP GET for `path`, or a burst of `count` GETs for `path/<i>`, `concurrency` at a time, to the forwarded
 * port, or (chapter 19a) each of `datagrams` in turn to a host UDP port forwarded to the guest's UDP `port`, waiting
 * for each one's answer. What happened goes into the transcript as `[host] …` lines. */
export type HostAction =
  | { kind: 'http'; line: number; after: string; path: string }
  | { kind: 'burst'; line: number; after: string; path: string; count: number; concurrency: number }
  | { kind: 'udp'; line: number; after: string; port: number; datagrams: string[]; from?: number }
  | { kind: 'reset'; line: number; after: string; path: string };

/** One page an origin serves (chapter W.6, `origin:` directives): the runner starts one HTTP server on the host per
 * distinct guest-visible `addr:port` and maps it into the guest with QEMU's `guestfwd`. */
export interface OriginRoute {
  line: number;
  /** the guest-visible address, an IPv4 literal in QEMU's user network (e.g. 10.0.2.100) */
  addr: string;
  port: number;
  path: string;
  answer: OriginAnswer;
}

/** What an origin does for a GET of its path: serve a page, or misbehave on purpose (a hostile origin for the
 * client's error paths): bytes that are not HTTP, a TCP reset, no answer at all, or a page over 16 KiB. */
export type OriginAnswer = { kind: 'page'; body: string } | { kind: (typeof ORIGIN_MISCHIEF)[number] };

export const ORIGIN_MISCHIEF = ['garbage', 'reset', 'silent', 'huge'] as const;

/** Disk actions of a `boot:` line (appendix A.7): record this boot's writes and flushes (QEMU's blklogwrites);
 * repeat this boot once per replay point of the recorded log; or flip one byte of the store's volume first. */
export type DiskAction = { kind: 'log' } | { kind: 'replay' } | { kind: 'flip'; target: { meta: true } | { file: string } };

/** A disk image the runner creates fresh (sparse, zero-filled) for one smoke and keeps across its boots. */
export interface DiskSpec {
  bytes: number;
  text: string;
}

export interface SmokeSpec {
  name: string;
  manifest: string;
  timeout: number;
  exit: number;
  steps: Step[];
  forbid: Matcher[];
  differs?: Matcher;
  /** boots after the first, in order (`boot:` directives; appendix A.6) */
  boots?: BootSpec[];
  /** attribute `disk=16M`: one virtio-blk disk attached to every boot of this smoke */
  disk?: DiskSpec;
  /** attribute `net=user`: a virtio-net NIC on QEMU's restricted user network, host port → guest port 80 (W.6);
   * `net=wire`: a virtio-net NIC wired to the runner, which plays host 10.0.2.2 on it (chapter 19a) */
  net?: 'user' | 'wire';
  /** `host:` directives, in chapter order (they apply to the first boot) */
  host?: HostAction[];
  /** `origin:` directives: pages that servers on the host serve to the guest (they apply to the first boot) */
  origins?: OriginRoute[];
  /** QEMU CPU model for this boot (attribute `cpu=`); absent means the default `qemu64,+rdrand`. */
  cpu?: string;
  chapter: string;
  line: number;
  source: string; // raw block text
}

export interface Chapter {
  path: string;
  meta: ChapterMeta;
  blocks: Block[];
  smokes: SmokeSpec[];
  tree: import('mdast').Root;
  source: string;
}

export interface Book {
  root: string;
  chapters: Chapter[];
}

export interface MapRange {
  startLine: number;
  endLine: number;
  chapter: string;
  chapterLine: number;
  block: string;
  /** Columns that chunk references put in front of these lines (absent when none): output column - indent is the
   * chapter column. */
  indent?: number;
}

export interface TangledFile {
  path: string;
  content: string;
  ranges: MapRange[];
}
