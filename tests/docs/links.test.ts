// Every link of the documentation leads somewhere: a relative link to a file (or folder) that exists, an anchor to a
// heading of that page; the npm package's page links with absolute URLs into this repository (npm resolves no
// relative link), and those must name files that exist here too.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, allPages, anchorsOf, linksOf, readPage } from '../helpers/docs.js';

const REPOSITORY_FILES = 'https://github.com/health-gate/health-gate/blob/main/';

// `docs/x.md#part` → the file relative to the project's root, and the anchor.
function resolve(page: string, target: string): { file: string; anchor: string | undefined } {
  const [file = '', anchor] = target.split('#');
  if (target.startsWith(REPOSITORY_FILES)) return { file: target.slice(REPOSITORY_FILES.length).split('#')[0] as string, anchor };
  return { file: file === '' ? page : path.normalize(path.join(path.dirname(page), file)), anchor };
}

describe.each(allPages())('%s', (page) => {
  const text = readPage(page);

  it('links only to files that exist, and to headings that exist', () => {
    const broken: string[] = [];
    for (const target of linksOf(text)) {
      if (/^[a-z]+:/.test(target) && !target.startsWith(REPOSITORY_FILES)) continue;
      const { file, anchor } = resolve(page, target);
      if (file.startsWith('..') || !existsSync(path.join(PROJECT_ROOT, file))) {
        broken.push(`${target}: no file ${file}`);
      } else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(readPage(file)).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${file}`);
      }
    }
    expect(broken).toEqual([]);
  });

  if (page === 'supervisor/README.md') {
    it('links into the repository with absolute URLs only, since npm shows it away from the repository', () => {
      const relative = linksOf(text).filter((target) => !/^[a-z]+:/.test(target));
      expect(relative).toEqual([]);
    });
  }
});
