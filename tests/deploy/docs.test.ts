// docs/platforms: one page per platform, each saying what to set, what happens at deploy and how several instances
// share the migrations, its relative links pointing at files that exist, and an index line for it in the README.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../render/blueprint.js';

const PAGES = ['docker', 'kubernetes', 'fly', 'railway', 'heroku', 'compose'];
const DOCS = path.join(PROJECT_ROOT, 'docs/platforms');
const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

describe.each(PAGES)('docs/platforms/%s.md', (page) => {
  const file = path.join(DOCS, `${page}.md`);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';

  it('says what to set, what happens at deploy, and how several instances share the migrations', () => {
    expect(text).toMatch(/^## What to set$/m);
    expect(text).toMatch(/^## What happens at deploy\b/m);
    expect(text).toMatch(/advisory lock/);
    expect(text).toMatch(/^## How it is tested$/m);
  });

  it('links only to files that exist', () => {
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target as string)) continue;
      expect(existsSync(path.join(DOCS, target as string)), target).toBe(true);
    }
  });

  it("has an index line in the README's deploy section", () => {
    expect(readme).toContain(`](docs/platforms/${page}.md)`);
  });
});
