// README.md is a new user's front page: short, and an index into docs/ that leaves no page out.
import { describe, expect, it } from 'vitest';
import { docsPages, linksOf, readPage } from '../helpers/docs.js';

const readme = readPage('README.md');

describe('README.md', () => {
  it('stays at 300 lines or fewer', () => {
    expect(readme.trimEnd().split('\n').length).toBeLessThanOrEqual(300);
  });

  it('links every page under docs/', () => {
    const linked = new Set(linksOf(readme).map((target) => target.split('#')[0]));
    expect(docsPages().filter((page) => !linked.has(page))).toEqual([]);
  });
});
