// Parse the body of a smoke block into a SmokeSpec. One directive per line:
//   timeout: 60            seconds before the boot counts as hung
//   exit: 0                init's exit code as the kernel reports it (the debug-exit value)
//   > exact line           the next expected serial line, matched exactly
//   ~ regex                the next expected line, a JS regex searched in the whole line
//   unordered:             then indented `>` / `~` lines: all must occur, in any order
//   ! exact  /  !~ regex   forbidden anywhere in the transcript
//   differs: ~ regex       one capture group whose value must differ between two boots
//   boot:  /  boot: manifests/x.cue   ends this boot's lines; the lines after it check one more boot of the same
//                          (or the named) manifest, with the same disk; `exit:` and `!` lines apply per boot
//   host: after "LINE" http GET /path      once the guest printed LINE, GET /path through the forwarded port (net=user)
//   host: after "LINE" burst N C /prefix   N GETs of /prefix/<i>, C at a time; results become `[host] …` lines
//   host: after "LINE" udp PORT [from P] "D1" "D2"  each datagram in turn to the guest's UDP PORT over the wire
//                                          (net=wire), from the runner's port 40000 or P
//   host: after "LINE" reset /path         half a GET of /path, then the host resets the connection (RST)
//   origin: A.B.C.D:PORT /path "BODY"   a page a server on the host serves at that guest-visible address (net=user;
//                          QEMU's guestfwd); each request it serves becomes a `[host] origin …` line; instead of
//                          the page, garbage / reset / silent / huge make the origin misbehave for that path
//   boot: … log / replay / flip=meta / flip=file:NAME   a disk action for that boot (appendix A.7)
//   = "prefix" cue export f  the lines the pinned `cue export f` prints (run at smoke time in f's folder), each with
//                          the prefix, expected in order as `>` lines
// Blank lines are ignored. Anything else is a malformed directive.
import {
  type Block,
  type BootSpec,
  type DiskSpec,
  type DiskAction,
  type HostAction,
  type Matcher,
  ORIGIN_MISCHIEF,
  type OriginAnswer,
  type OriginRoute,
  type SmokeSpec,
  type Step,
} from './model.js';

export interface SmokeProblem {
  line: number;
  column: number;
  reason: string;
  ruleId: string;
  hint: string;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
/** A QEMU CPU model with optional feature flags, e.g. `qemu64` or `qemu64,+rdrand`; nothing that could add arguments. */
const CPU = /^[a-z0-9][a-z0-9_.-]*(,[+-]?[a-z0-9_.-]+)*$/i;
const DEFAULT_TIMEOUT = 60;
/** `disk=` sizes: a number and K, M or G (binary units), at most 1 GiB (the runner writes it under build/). */
const DISK = /^(\d+)([KMG])$/;
const DISK_MAX = 1 << 30;
const MANIFEST_PATH = /^manifests\/[A-Za-z0-9._-]+\.cue$/;
const DEFAULT_EXIT = 0;

export function parseSmoke(block: Block, source: string): { spec?: SmokeSpec; problems: SmokeProblem[] } {
  const problems: SmokeProblem[] = [];
  const malformed = (line: number, reason: string, hint: string) => problems.push({ line, column: 1, reason, ruleId: 'malformed-smoke', hint });
  const name = block.kind === 'plain' ? '' : block.target;
  const manifest = typeof block.attrs.manifest === 'string' ? block.attrs.manifest : '';
  if (!NAME.test(name)) {
    problems.push({
      line: block.line,
      column: 1,
      reason: `Unexpected smoke name \`${name}\`, expected lowercase letters, digits and dashes`,
      ruleId: 'bad-smoke-name',
      hint: 'name it like `run-wasi-hello` (phases) or `run-capos-hello` (kernel appendix)',
    });
  }
  const cpu = block.attrs.cpu;
  if (cpu !== undefined && (typeof cpu !== 'string' || !CPU.test(cpu))) {
    problems.push({
      line: block.line,
      column: 1,
      reason: `Unexpected cpu \`${cpu === true ? '' : cpu}\`, expected a QEMU CPU model such as \`qemu64\` or \`qemu64,+rdrand\``,
      ruleId: 'bad-smoke-cpu',
      hint: 'write e.g. `cpu=qemu64`; leave it out for the default `qemu64,+rdrand`',
    });
  }
  let disk: DiskSpec | undefined;
  const diskAttr = block.attrs.disk;
  if (diskAttr !== undefined) {
    const m = typeof diskAttr === 'string' ? DISK.exec(diskAttr) : null;
    const bytes = m ? Number(m[1]) * { K: 1024, M: 1 << 20, G: 1 << 30 }[m[2] as 'K' | 'M' | 'G'] : 0;
    if (!m || bytes === 0 || bytes > DISK_MAX || bytes % 512 !== 0) {
      problems.push({
        line: block.line,
        column: 1,
        reason: `Unexpected disk size \`${diskAttr === true ? '' : diskAttr}\`, expected a size such as \`16M\` (K, M or G; whole sectors; at most 1G)`,
        ruleId: 'bad-smoke-disk',
        hint: 'write e.g. `disk=16M`',
      });
    } else disk = { bytes, text: diskAttr as string };
  }
  const net = block.attrs.net;
  if (net !== undefined && net !== 'user' && net !== 'wire') {
    problems.push({
      line: block.line,
      column: 1,
      reason: `Unexpected net \`${net === true ? '' : net}\`, expected \`net=user\` or \`net=wire\``,
      ruleId: 'bad-smoke-net',
      hint: 'write `net=user` (QEMU user networking with restrict=on and a forwarded port) or `net=wire` (the NIC wired to the runner)',
    });
  }
  const host: HostAction[] = [];
  const origins: OriginRoute[] = [];
  let timeout: number | undefined;
  let exit: number | undefined;
  let differs: Matcher | undefined;
  let steps: Step[] = [];
  let forbid: Matcher[] = [];
  const boots: BootSpec[] = [];
  let group: { kind: 'unordered'; line: number; matchers: Matcher[] } | undefined;
  let first: { steps: Step[]; forbid: Matcher[]; exit: number | undefined } | undefined;

  const closeGroup = () => {
    if (group && group.matchers.length === 0)
      malformed(group.line, 'Unexpected empty `unordered:` group, expected indented `>` or `~` lines after it', 'indent the lines of the group by two spaces');
    group = undefined;
  };
  const lines = block.value === '' ? [] : block.value.split('\n');
  lines.forEach((raw, index) => {
    const line = block.bodyLine + index;
    if (raw.trim() === '') return;
    const indented = /^[ \t]/.test(raw);
    const text = raw.trim();
    if (indented) {
      if (!group) {
        malformed(
          line,
          'Unexpected indented line outside an `unordered:` group, expected a directive at the start of the line',
          'remove the indentation or start a group with `unordered:`',
        );
        return;
      }
      const matcher = expectation(text, line, malformed);
      if (matcher) group.matchers.push(matcher);
      return;
    }
    closeGroup();
    const bootLine = /^boot:\s*(.*)$/.exec(text);
    if (bootLine) {
      const words = (bootLine[1] ?? '').split(/\s+/).filter((w) => w !== '');
      const named = words[0]?.startsWith('manifests/') ? words.shift()! : '';
      if (named !== '' && !MANIFEST_PATH.test(named)) {
        malformed(
          line,
          `Unexpected \`boot: ${named}\`, expected \`boot:\` alone or \`boot: manifests/<name>.cue\``,
          'name a manifest file under manifests/, or leave it out to boot the same one again',
        );
        return;
      }
      const action = diskAction(words, line, malformed);
      if (action === null) return;
      if (boots.length === 0) first = { steps, forbid, exit };
      else {
        const b = boots[boots.length - 1]!;
        b.steps = steps;
        b.forbid = forbid;
        b.exit = exit ?? DEFAULT_EXIT;
      }
      boots.push({ manifest: named || manifest, exit: DEFAULT_EXIT, steps: [], forbid: [], line, ...(action ? { disk: action } : {}) });
      steps = [];
      forbid = [];
      exit = undefined;
      return;
    }
    const setting = /^(timeout|exit|differs):\s*(.*)$/.exec(text);
    if (setting) {
      const [, key, value = ''] = setting;
      if (key === 'timeout') {
        if (timeout !== undefined) malformed(line, 'Unexpected second `timeout:`, expected one per smoke', 'keep one `timeout:` line');
        else if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0)
          malformed(line, `Unexpected timeout \`${value}\`, expected a positive number of seconds`, 'write e.g. `timeout: 60`');
        else timeout = Number(value);
      } else if (key === 'exit') {
        if (exit !== undefined) malformed(line, 'Unexpected second `exit:`, expected one per boot', 'keep one `exit:` line per boot');
        else if (!/^\d+$/.test(value) || Number(value) > 255)
          malformed(line, `Unexpected exit status \`${value}\`, expected an integer 0–255`, 'write e.g. `exit: 0`');
        else exit = Number(value);
      } else {
        if (differs !== undefined) malformed(line, 'Unexpected second `differs:`, expected one per smoke', 'keep one `differs:` line');
        else differs = differsMatcher(value, line, malformed);
      }
      return;
    }
    if (text.startsWith('host:')) {
      const action = hostAction(text.slice(5).trim(), line, malformed);
      const needs = action?.kind === 'udp' ? 'wire' : 'user';
      if (action && net !== needs)
        malformed(
          line,
          `Unexpected \`host: … ${action.kind}\` in a smoke without \`net=${needs}\`, expected the attribute on the block`,
          `add \`net=${needs}\` to the smoke block (http and burst go through net=user's forwarded port, udp over net=wire)`,
        );
      else if (action) host.push(action);
      return;
    }
    if (text.startsWith('origin:')) {
      const route = originRoute(text.slice(7).trim(), line, malformed);
      if (route && net !== 'user')
        malformed(line, 'Unexpected `origin:` in a smoke without `net=user`, expected the attribute on the block', 'add `net=user` to the smoke block');
      else if (route && origins.some((o) => o.addr === route.addr && o.port === route.port && o.path === route.path))
        malformed(
          line,
          `Unexpected second page ${route.path} at ${route.addr}:${route.port}, expected one \`origin:\` line per page`,
          'remove one of the two lines',
        );
      else if (route) origins.push(route);
      return;
    }
    if (text === 'unordered:') {
      group = { kind: 'unordered', line, matchers: [] };
      steps.push(group);
      return;
    }
    if (text.startsWith('=')) {
      const c = computed(text.slice(1).trim(), line, malformed);
      if (c) steps.push(c);
      return;
    }
    if (text.startsWith('!~')) {
      const m = regexMatcher(text.slice(2), line, malformed);
      if (m) forbid.push(m);
      return;
    }
    if (text.startsWith('!')) {
      forbid.push({ kind: 'exact', text: exactText(text.slice(1)), line });
      return;
    }
    const matcher = expectation(text, line, malformed);
    if (matcher) steps.push({ kind: 'line', matcher });
  });
  closeGroup();
  if (boots.length > 0) {
    const b = boots[boots.length - 1]!;
    b.steps = steps;
    b.forbid = forbid;
    b.exit = exit ?? DEFAULT_EXIT;
    ({ steps, forbid, exit } = first!);
  }
  checkDiskActions(boots, disk !== undefined, malformed);
  if (differs && boots.length > 0)
    malformed(
      differs.line,
      'Unexpected `differs:` in a smoke with `boot:` lines, expected one or the other',
      '`differs:` boots the same image twice by itself; drop the `boot:` lines or the `differs:`',
    );
  if (problems.length > 0) return { problems };
  const spec: SmokeSpec = {
    name,
    manifest,
    timeout: timeout ?? DEFAULT_TIMEOUT,
    exit: exit ?? DEFAULT_EXIT,
    steps,
    forbid,
    chapter: block.chapter,
    line: block.line,
    source,
  };
  if (boots.length > 0) spec.boots = boots;
  if (disk) spec.disk = disk;
  if (differs) spec.differs = differs;
  if (typeof cpu === 'string') spec.cpu = cpu;
  if (net === 'user' || net === 'wire') spec.net = net;
  if (host.length > 0) spec.host = host;
  if (origins.length > 0) spec.origins = origins;
  return { spec, problems };
}

type Malformed = (line: number, reason: string, hint: string) => void;

/** The words after a `boot:` line's manifest: none, or one disk action. null: malformed (already reported). */
function diskAction(words: string[], line: number, malformed: Malformed): DiskAction | undefined | null {
  if (words.length === 0) return undefined;
  const hint = 'write `boot: manifests/x.cue log`, `… replay`, `… flip=meta` or `… flip=file:NAME` (appendix A.7)';
  const [word, ...rest] = words;
  if (rest.length > 0) {
    malformed(line, `Unexpected \`${rest.join(' ')}\` after the disk action, expected one action per boot`, hint);
    return null;
  }
  if (word === 'log') return { kind: 'log' };
  if (word === 'replay') return { kind: 'replay' };
  if (word === 'flip=meta') return { kind: 'flip', target: { meta: true } };
  const file = /^flip=file:([A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*)$/.exec(word!);
  if (file) return { kind: 'flip', target: { file: file[1]! } };
  malformed(line, `Unexpected disk action \`${word}\`, expected \`log\`, \`replay\`, \`flip=meta\` or \`flip=file:NAME\``, hint);
  return null;
}

/** Disk actions need a disk; one `log` boot at most; `replay` only as the last boot, after the `log` one. */
function checkDiskActions(boots: BootSpec[], hasDisk: boolean, malformed: Malformed): void {
  const logs = boots.filter((b) => b.disk?.kind === 'log');
  boots.forEach((b, i) => {
    if (!b.disk) return;
    if (!hasDisk)
      malformed(
        b.line,
        `Unexpected disk action \`${b.disk.kind}\` in a smoke without a disk, expected a \`disk=\` attribute`,
        'add e.g. `disk=16M` to the smoke block',
      );
    if (b.disk.kind === 'log' && logs.length > 1 && b !== logs[0])
      malformed(b.line, 'Unexpected second `log` boot, expected one per smoke', 'record one burst; replay it with a final `replay` boot');
    if (b.disk.kind === 'replay') {
      if (i !== boots.length - 1)
        malformed(b.line, 'Unexpected `replay` boot before the last, expected it to be the last boot', 'move the replay boot to the end of the smoke');
      if (!boots.slice(0, i).some((x) => x.disk?.kind === 'log'))
        malformed(
          b.line,
          'Unexpected `replay` boot without a `log` boot before it, expected a boot recorded with `log`',
          'add `log` to the boot whose writes are to be replayed',
        );
    }
  });
}

/** `"prefix" cue export <file>` after the `=`: the prefix is a JSON string, the file repo-relative without `..`. */
function computed(rest: string, line: number, malformed: Malformed): Step | undefined {
  const m = /^("(?:[^"\\]|\\.)*")\s+cue\s+export\s+(\S+)$/.exec(rest);
  const hint = 'write e.g. `= "[wasm-host] " cue export manifests/system-x.cue`; only the pinned `cue export` is run';
  if (!m) {
    malformed(line, `Unexpected computed expectation \`= ${rest}\`, expected \`= "prefix" cue export <file>\``, hint);
    return undefined;
  }
  let prefix: unknown;
  try {
    prefix = JSON.parse(m[1]!);
  } catch {
    prefix = undefined;
  }
  const file = m[2]!;
  if (typeof prefix !== 'string') {
    malformed(line, `Unexpected prefix ${m[1]}, expected a JSON string`, hint);
    return undefined;
  }
  if (file.startsWith('/') || file.split('/').includes('..')) {
    malformed(line, `Unexpected file \`${file}\`, expected a repository-relative path without \`..\``, hint);
    return undefined;
  }
  return { kind: 'computed', line, prefix, tool: 'cue export', file };
}

/** `> exact` or `~ regex` (after trimming the leading indentation). */
function expectation(text: string, line: number, malformed: Malformed): Matcher | undefined {
  if (text.startsWith('>')) return { kind: 'exact', text: exactText(text.slice(1)), line };
  if (text.startsWith('~')) return regexMatcher(text.slice(1), line, malformed);
  malformed(
    line,
    `Unexpected smoke directive \`${text}\`, expected \`> line\`, \`~ regex\`, \`unordered:\`, \`! line\`, \`!~ regex\`, \`= "prefix" cue export <file>\`, \`timeout:\`, \`exit:\`, \`differs:\` or \`boot:\``,
    'see chapter A.2 for the smoke directives',
  );
  return undefined;
}

/** The text after a `>` or `!` marker: one separating space is dropped; trailing blanks, invisible
 * in a chapter, were already trimmed; everything else is kept exactly. */
function exactText(rest: string): string {
  return rest.startsWith(' ') ? rest.slice(1) : rest;
}

function regexMatcher(rest: string, line: number, malformed: Malformed): Matcher | undefined {
  const source = exactText(rest);
  if (source === '') {
    malformed(line, 'Unexpected empty regex, expected a pattern after `~`', 'write e.g. `~ ^\\[init\\] ok`');
    return undefined;
  }
  try {
    new RegExp(source);
  } catch (error) {
    malformed(
      line,
      `Unexpected invalid regex \`${source}\` (${(error as Error).message}), expected a JavaScript regular expression`,
      'escape special characters such as `[`, `(` and `.` with `\\`',
    );
    return undefined;
  }
  return { kind: 'regex', text: source, line };
}

function differsMatcher(value: string, line: number, malformed: Malformed): Matcher | undefined {
  if (!value.startsWith('~')) {
    malformed(line, `Unexpected \`differs: ${value}\`, expected \`differs: ~ regex\``, 'write e.g. `differs: ~ random: (\\w+)`');
    return undefined;
  }
  const matcher = regexMatcher(value.slice(1), line, malformed);
  if (!matcher) return undefined;
  const groups = new RegExp(`${matcher.text}|`).exec('')!.length - 1;
  if (groups !== 1) {
    malformed(
      line,
      `Unexpected ${groups} capture groups in \`differs:\`, expected exactly one`,
      'wrap the varying part in one `( )` group and use `(?: )` for any other',
    );
    return undefined;
  }
  return matcher;
}

/** The guest-visible addresses an origin may take: QEMU's user network 10.0.2.0/24, but not the gateway (.2), its DNS
 * (.3) or the guest itself (.15), which QEMU keeps for itself. */
const ORIGIN = /^10\.0\.2\.(\d{1,3}):(\d{1,5})\s+(\/\S*)\s+("(?:[^"\\]|\\.)*"|[a-z]+)$/;

/** `A.B.C.D:PORT /path "BODY"` (after `origin:`). */
function originRoute(rest: string, line: number, malformed: Malformed): OriginRoute | undefined {
  const hint = `write e.g. \`origin: 10.0.2.100:80 /greeting "hello from the host\\n"\` (or ${ORIGIN_MISCHIEF.join(', ')} instead of the page)`;
  const m = ORIGIN.exec(rest);
  const answer = m ? originAnswer(m[4]!) : undefined;
  const host = Number(m?.[1]),
    port = Number(m?.[2]);
  if (!m || !answer || host < 4 || host > 254 || host === 15 || port < 1 || port > 65535) {
    malformed(line, `Unexpected origin \`${rest}\`, expected \`10.0.2.N:PORT /path "BODY"\` with N from 4 to 254 but not 15`, hint);
    return undefined;
  }
  return { line, addr: `10.0.2.${host}`, port, path: m[3]!, answer };
}

/** A quoted page, or one of the named misbehaviours. */
function originAnswer(text: string): OriginAnswer | undefined {
  const mischief = ORIGIN_MISCHIEF.find((k) => k === text);
  if (mischief) return { kind: mischief };
  try {
    const body: unknown = JSON.parse(text);
    return typeof body === 'string' ? { kind: 'page', body } : undefined;
  } catch {
    return undefined;
  }
}

/** `after "LINE" http GET /path`, `after "LINE" burst N C /prefix`, `after "LINE" udp …` or `after "LINE" reset /path` (after `host:`). */
function hostAction(rest: string, line: number, malformed: Malformed): HostAction | undefined {
  const hint =
    'write e.g. `host: after "[web] listening" http GET /`, `host: after "[web] listening" burst 2000 16 /n` or `host: after "[echo] ready" udp 7 "ping"`';
  const m = /^after\s+("(?:[^"\\]|\\.)*")\s+(.*)$/.exec(rest);
  let after: unknown;
  try {
    after = m ? JSON.parse(m[1]!) : undefined;
  } catch {
    after = undefined;
  }
  if (!m || typeof after !== 'string') {
    malformed(line, `Unexpected host action \`${rest}\`, expected \`after "LINE" <action>\``, hint);
    return undefined;
  }
  const what = m[2]!.trim();
  const http = /^http\s+GET\s+(\/\S*)$/.exec(what);
  if (http) return { kind: 'http', line, after, path: http[1]! };
  const burst = /^burst\s+(\d+)\s+(\d+)\s+(\/\S*)$/.exec(what);
  if (burst) {
    const count = Number(burst[1]),
      concurrency = Number(burst[2]);
    if (count < 1 || count > 100000 || concurrency < 1 || concurrency > 256) {
      malformed(line, `Unexpected burst ${count} ${concurrency}, expected 1–100000 requests and 1–256 at a time`, hint);
      return undefined;
    }
    return { kind: 'burst', line, after, path: burst[3]!, count, concurrency };
  }
  const udp = /^udp\s+(\d+)(?:\s+from\s+(\d+))?\s+(".*)$/.exec(what);
  if (udp) {
    const port = Number(udp[1]);
    const from = udp[2] === undefined ? undefined : Number(udp[2]);
    const datagrams = quotedList(udp[3]!);
    const bad = (p: number | undefined) => p !== undefined && (p < 1 || p > 65535);
    if (bad(port) || bad(from) || datagrams === undefined || datagrams.length === 0) {
      malformed(line, `Unexpected udp action \`${what}\`, expected \`udp PORT [from PORT] "DATAGRAM" …\` with ports 1–65535 and JSON strings`, hint);
      return undefined;
    }
    return { kind: 'udp', line, after, port, datagrams, ...(from !== undefined ? { from } : {}) };
  }
  const reset = /^reset\s+(\/\S*)$/.exec(what);
  if (reset) return { kind: 'reset', line, after, path: reset[1]! };
  malformed(line, `Unexpected host action \`${what}\`, expected \`http GET /path\`, \`burst N C /prefix\`, \`udp PORT "DATAGRAM" …\` or \`reset /path\``, hint);
  return undefined;
}

/** `"a" "b c"` (JSON strings separated by spaces) as a list, or undefined if anything else is there. */
function quotedList(text: string): string[] | undefined {
  const out: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*")/y;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    try {
      out.push(JSON.parse(m[1]!) as string);
    } catch {
      return undefined;
    }
    if (re.lastIndex === text.length) return out;
  }
  return undefined;
}
