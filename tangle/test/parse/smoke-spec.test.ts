import { describe, expect, test } from 'vitest';
import { parseSmoke, type Block } from '../../index.js';

function smokeBlock(body: string, extra: Record<string, string | true> = {}): Block {
  return {
    kind: 'smoke',
    lang: 'smoke',
    attrs: { name: 'run-wasi-x', manifest: 'manifests/x.cue', ...extra },
    value: body,
    chapter: 'chapters/10-x.md',
    line: 20,
    bodyLine: 21,
    target: 'run-wasi-x',
  };
}

describe('parseSmoke', () => {
  test('parses every directive with its chapter line', () => {
    const body = [
      'timeout: 30',
      'exit: 3',
      '> [kernel] boot',
      '',
      '~ ^\\[init\\] \\d+',
      'unordered:',
      '  > [a] one',
      '  ~ \\[b\\]',
      '> after',
      '! [kernel] panic',
      '!~ fault',
      'differs: ~ seed (\\w+)',
    ].join('\n');
    const { spec, problems } = parseSmoke(smokeBlock(body), 'raw');
    expect(problems).toEqual([]);
    expect(spec).toEqual({
      name: 'run-wasi-x',
      manifest: 'manifests/x.cue',
      timeout: 30,
      exit: 3,
      chapter: 'chapters/10-x.md',
      line: 20,
      source: 'raw',
      steps: [
        { kind: 'line', matcher: { kind: 'exact', text: '[kernel] boot', line: 23 } },
        { kind: 'line', matcher: { kind: 'regex', text: '^\\[init\\] \\d+', line: 25 } },
        {
          kind: 'unordered',
          line: 26,
          matchers: [
            { kind: 'exact', text: '[a] one', line: 27 },
            { kind: 'regex', text: '\\[b\\]', line: 28 },
          ],
        },
        { kind: 'line', matcher: { kind: 'exact', text: 'after', line: 29 } },
      ],
      forbid: [
        { kind: 'exact', text: '[kernel] panic', line: 30 },
        { kind: 'regex', text: 'fault', line: 31 },
      ],
      differs: { kind: 'regex', text: 'seed (\\w+)', line: 32 },
    });
  });

  test('boot: sections and disk=: each later boot has its own lines, forbidden lines and exit status', () => {
    const body = ['exit: 0', '> [writer] wrote', '!~ panic', 'boot:', '> [reader] same', 'exit: 1', 'boot: manifests/y.cue', '~ other'].join('\n');
    const { spec, problems } = parseSmoke(smokeBlock(body, { disk: '16M' }), 'raw');
    expect(problems).toEqual([]);
    expect(spec?.disk).toEqual({ bytes: 16 << 20, text: '16M' });
    expect(spec?.steps).toEqual([{ kind: 'line', matcher: { kind: 'exact', text: '[writer] wrote', line: 22 } }]);
    expect(spec?.forbid).toEqual([{ kind: 'regex', text: 'panic', line: 23 }]);
    expect(spec?.exit).toBe(0);
    expect(spec?.boots).toEqual([
      { manifest: 'manifests/x.cue', exit: 1, line: 24, forbid: [], steps: [{ kind: 'line', matcher: { kind: 'exact', text: '[reader] same', line: 25 } }] },
      { manifest: 'manifests/y.cue', exit: 0, line: 27, forbid: [], steps: [{ kind: 'line', matcher: { kind: 'regex', text: 'other', line: 28 } }] },
    ]);
  });

  test.each([['0M'], ['12'], ['2G'], ['1.5M'], ['100']])('refuses disk=%s', (size) => {
    const { spec, problems } = parseSmoke(smokeBlock('> x', { disk: size }), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.map((p) => p.ruleId)).toEqual(['bad-smoke-disk']);
  });

  test('net=user and host: actions keep their chapter lines, in order', () => {
    const body = [
      'host: after "[web] up" http GET /hello',
      'host: after "[web] served /hello" burst 2000 16 /n',
      'host: after "[web] up" reset /r',
      '> [web] up',
    ].join('\n');
    const { spec, problems } = parseSmoke(smokeBlock(body, { net: 'user' }), 'raw');
    expect(problems).toEqual([]);
    expect(spec?.net).toBe('user');
    expect(spec?.host).toEqual([
      { kind: 'http', line: 21, after: '[web] up', path: '/hello' },
      { kind: 'burst', line: 22, after: '[web] served /hello', path: '/n', count: 2000, concurrency: 16 },
      { kind: 'reset', line: 23, after: '[web] up', path: '/r' },
    ]);
  });

  test.each([
    ['host: http GET /'],
    ['host: after "x" http POST /'],
    ['host: after "x" burst 0 1 /n'],
    ['host: after "x" burst 10 1000 /n'],
    ['host: after x http GET /'],
    ['host: after "x" ping'],
    ['host: after "x" reset'],
    ['host: after "x" reset r'],
  ])('refuses the host action %j', (body) => {
    const { spec, problems } = parseSmoke(smokeBlock(body, { net: 'user' }), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.map((p) => [p.ruleId, p.line])).toEqual([['malformed-smoke', 21]]);
  });

  test('net=wire and a udp action: each quoted datagram, escapes decoded', () => {
    const body = 'host: after "[echo] ready" udp 7 "ping 1" "a \\"quoted\\" one" "quit"';
    const { spec, problems } = parseSmoke(smokeBlock(body, { net: 'wire' }), 'raw');
    expect(problems).toEqual([]);
    expect(spec?.net).toBe('wire');
    expect(spec?.host).toEqual([{ kind: 'udp', line: 21, after: '[echo] ready', port: 7, datagrams: ['ping 1', 'a "quoted" one', 'quit'] }]);
    const from = parseSmoke(smokeBlock('host: after "x" udp 7 from 40001 "stray"', { net: 'wire' }), 'raw').spec?.host;
    expect(from).toEqual([{ kind: 'udp', line: 21, after: 'x', port: 7, datagrams: ['stray'], from: 40001 }]);
  });

  test.each([
    ['host: after "x" udp 7'],
    ['host: after "x" udp 0 "a"'],
    ['host: after "x" udp 70000 "a"'],
    ['host: after "x" udp 7 "a" b'],
    ['host: after "x" udp 7 "a\\q"'],
    ['host: after "x" udp 7 "unclosed'],
    ['host: after "x" udp 7 from 0 "a"'],
    ['host: after "x" udp 7 from "a"'],
  ])('refuses the udp action %j', (body) => {
    const { spec, problems } = parseSmoke(smokeBlock(body, { net: 'wire' }), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.map((p) => [p.ruleId, p.line])).toEqual([['malformed-smoke', 21]]);
  });

  test('udp needs net=wire, http and burst need net=user', () => {
    const udp = parseSmoke(smokeBlock('host: after "x" udp 7 "a"', { net: 'user' }), 'raw').problems;
    expect(udp.map((p) => [p.ruleId, p.reason])).toEqual([['malformed-smoke', expect.stringContaining('without `net=wire`')]]);
    const http = parseSmoke(smokeBlock('host: after "x" http GET /', { net: 'wire' }), 'raw').problems;
    expect(http.map((p) => [p.ruleId, p.reason])).toEqual([['malformed-smoke', expect.stringContaining('without `net=user`')]]);
  });

  test('origin: lines name a guest-visible address, a path and the page, with their chapter lines', () => {
    const body = ['origin: 10.0.2.100:80 /greeting "hello\\n"', 'origin: 10.0.2.101:8080 / "a \\"quoted\\" page"', '> x'].join('\n');
    const { spec, problems } = parseSmoke(smokeBlock(body, { net: 'user' }), 'raw');
    expect(problems).toEqual([]);
    expect(spec?.origins).toEqual([
      { line: 21, addr: '10.0.2.100', port: 80, path: '/greeting', answer: { kind: 'page', body: 'hello\n' } },
      { line: 22, addr: '10.0.2.101', port: 8080, path: '/', answer: { kind: 'page', body: 'a "quoted" page' } },
    ]);
    const mischief = ['garbage', 'reset', 'silent', 'huge'].map((k, i) => `origin: 10.0.2.104:80 /${i} ${k}`).join('\n');
    const hostile = parseSmoke(smokeBlock(mischief, { net: 'user' }), 'raw').spec?.origins?.map((o) => o.answer.kind);
    expect(hostile).toEqual(['garbage', 'reset', 'silent', 'huge']);
  });

  test.each([
    ['origin: 10.0.2.2:80 / "the gateway"'],
    ['origin: 10.0.2.3:80 / "the dns"'],
    ['origin: 10.0.2.15:80 / "the guest"'],
    ['origin: 10.0.2.255:80 / "broadcast"'],
    ['origin: 192.168.1.1:80 / "outside the user network"'],
    ['origin: 10.0.2.100:0 / "port 0"'],
    ['origin: 10.0.2.100:80 greeting "no slash"'],
    ['origin: 10.0.2.100:80 /greeting unquoted'],
    ['origin: 10.0.2.100:80 /greeting 42'],
  ])('refuses the origin %j', (body) => {
    const { spec, problems } = parseSmoke(smokeBlock(body, { net: 'user' }), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.map((p) => [p.ruleId, p.line])).toEqual([['malformed-smoke', 21]]);
  });

  test('origin: needs net=user, and one line per page', () => {
    expect(parseSmoke(smokeBlock('origin: 10.0.2.100:80 / "x"'), 'raw').problems.map((p) => p.reason)).toEqual([
      'Unexpected `origin:` in a smoke without `net=user`, expected the attribute on the block',
    ]);
    const twice = parseSmoke(smokeBlock('origin: 10.0.2.100:80 / "x"\norigin: 10.0.2.100:80 / "y"', { net: 'user' }), 'raw');
    expect(twice.problems.map((p) => [p.line, p.reason])).toEqual([[22, 'Unexpected second page / at 10.0.2.100:80, expected one `origin:` line per page']]);
  });

  test('host: without net=user, and a net= other than user, are refused', () => {
    expect(parseSmoke(smokeBlock('host: after "x" http GET /'), 'raw').problems.map((p) => p.ruleId)).toEqual(['malformed-smoke']);
    expect(parseSmoke(smokeBlock('> x', { net: 'tap' }), 'raw').problems.map((p) => p.ruleId)).toEqual(['bad-smoke-net']);
  });

  test('defaults: timeout 60 s, exit 0; exact lines keep inner spaces, not trailing ones', () => {
    const { spec } = parseSmoke(smokeBlock('>  two spaces '), 'raw');
    expect(spec?.timeout).toBe(60);
    expect(spec?.exit).toBe(0);
    expect(spec?.steps[0]).toEqual({ kind: 'line', matcher: { kind: 'exact', text: ' two spaces', line: 21 } });
  });

  test.each([
    ['exit: -1'],
    ['exit: 256'],
    ['timeout: 0'],
    ['~ [unclosed'],
    ['differs: ~ (a)(b)'],
    ['differs: plain'],
    ['unordered:'],
    ['  > stray'],
    ['nonsense'],
    ['timeout: 1\ntimeout: 2'],
    ['~ '],
    ['boot: /etc/passwd'],
    ['boot: x.cue'],
    ['differs: ~ s (\\w+)\nboot:'],
    ['exit: 1\nboot:\nexit: 2\nexit: 3'],
  ])('refuses %j', (body) => {
    const { spec, problems } = parseSmoke(smokeBlock(body), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.length).toBeGreaterThan(0);
    for (const problem of problems) expect(problem.ruleId).toBe('malformed-smoke');
  });

  test('= "prefix" cue export <file> is a computed expectation in step order', () => {
    const { spec, problems } = parseSmoke(smokeBlock('> first\n= "[cue] " cue export demos/x/in.cue\n> last'), 'raw');
    expect(problems).toEqual([]);
    expect(spec?.steps).toEqual([
      { kind: 'line', matcher: { kind: 'exact', text: 'first', line: 21 } },
      { kind: 'computed', line: 22, prefix: '[cue] ', tool: 'cue export', file: 'demos/x/in.cue' },
      { kind: 'line', matcher: { kind: 'exact', text: 'last', line: 23 } },
    ]);
  });

  test.each([
    ['= cue export x.cue'],
    ['= "[a] " cue eval x.cue'],
    ['= "[a] " cue export ../x.cue'],
    ['= "[a] " cue export /etc/x.cue'],
    ['= "[a] " cue export x.cue; rm -rf /'],
    ['= "unterminated cue export x.cue'],
  ])('refuses the computed expectation %j', (body) => {
    const { spec, problems } = parseSmoke(smokeBlock(body), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.map((p) => p.ruleId)).toEqual(['malformed-smoke']);
  });

  test('cpu= picks the QEMU CPU model; absent means the default', () => {
    expect(parseSmoke(smokeBlock('> x'), 'raw').spec?.cpu).toBeUndefined();
    expect(parseSmoke(smokeBlock('> x', { cpu: 'qemu64' }), 'raw').spec?.cpu).toBe('qemu64');
    expect(parseSmoke(smokeBlock('> x', { cpu: 'qemu64,+rdrand,-sse4.2' }), 'raw').spec?.cpu).toBe('qemu64,+rdrand,-sse4.2');
  });

  test.each([['qemu64 -monitor stdio'], ['-cpu'], [''], [true]] as const)('refuses cpu=%j', (cpu) => {
    const { spec, problems } = parseSmoke(smokeBlock('> x', { cpu }), 'raw');
    expect(spec).toBeUndefined();
    expect(problems.map((p) => p.ruleId)).toEqual(['bad-smoke-cpu']);
  });
});
