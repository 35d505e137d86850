// docs/platforms: one page per platform, each saying what to set, what happens at deploy and how several instances
// share the migrations, and an index line for it in the README (tests/docs/links.test.ts checks every page's links).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../render/blueprint.js';

const PAGES = ['render', 'docker', 'kubernetes', 'fly', 'railway', 'heroku', 'compose'];
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

  it("has an index line in the README's documentation index", () => {
    expect(readme).toContain(`](docs/platforms/${page}.md)`);
  });
});
