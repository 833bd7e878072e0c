import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { VFile } from 'vfile';
import { describe, expect, test } from 'vitest';
import { analyzeBook, parseChapter, remarkChapterMeta, remarkCodeBlocks, remarkSmoke } from '../../index.js';

describe('remark plugins', () => {
  test('work in a pipeline of their own, as the site uses them (front matter optional)', async () => {
    const file = new VFile({
      path: '/somewhere/chapters/12-w2-x.md',
      value: '# T\n\n```rust chunk=c\nx();\n```\n\n```smoke name=run-wasi-x manifest=manifests/x.cue\n> hi\n```\n',
    });
    const processor = unified().use(remarkParse).use(remarkChapterMeta, { required: false }).use(remarkCodeBlocks).use(remarkSmoke);
    await processor.run(processor.parse(file), file);
    expect(file.messages).toEqual([]);
    expect(file.data.blocks?.map((b) => [b.kind, b.chapter, b.line, b.kind === 'plain' ? undefined : b.target])).toEqual([
      ['chunk', 'chapters/12-w2-x.md', 3, 'c'],
      ['smoke', 'chapters/12-w2-x.md', 7, 'run-wasi-x'],
    ]);
    expect(file.data.smokes?.[0]?.steps).toEqual([{ kind: 'line', matcher: { kind: 'exact', text: 'hi', line: 8 } }]);
  });

  test('remark-chapter-meta refuses invalid options', () => {
    expect(() =>
      unified()
        .use(remarkChapterMeta, { required: 'yes' } as never)
        .freeze(),
    ).toThrow(/expected options/);
  });

  test('a CRLF chapter tangles to LF lines and its references are found', async () => {
    const source = [
      '---',
      'phase: W.1',
      'title: t',
      'status: planned',
      'description: d',
      'topics: []',
      'smokes: []',
      '---',
      '',
      '```rust file=capos-wasm/a.rs',
      'fn a() {',
      '    <<x>>',
      '}',
      '```',
      '',
      '```rust chunk=x',
      'b();',
      '```',
      '',
    ].join('\r\n');
    const { chapter, file } = await parseChapter('chapters/10-w1.md', source);
    expect(file.messages).toEqual([]);
    const { files, messages } = analyzeBook({ root: '.', chapters: [chapter] });
    expect(messages).toEqual([]);
    expect(files[0]!.content).toBe('// Tangled from chapters/10-w1.md; edit the chapter, not this file.\nfn a() {\n    b();\n}\n');
  });
});
