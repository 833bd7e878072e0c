import { describe, expect, test } from 'vitest';
import * as api from '../../index.js';

describe('tangle/index.ts', () => {
  test('exports the contract API and the plugins the site uses', () => {
    for (const name of [
      'loadBook',
      'tangleBook',
      'writeTangled',
      'BookError',
      'remarkChapterMeta',
      'remarkCodeBlocks',
      'remarkSmoke',
      'chapterProcessor',
      'parseChapter',
      'formatMessage',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
