// Tests mirror the source tree: each file of supervisor/ has its test at the matching path under tests/supervisor/,
// or a line in CONTRIBUTING.md's "Source files without a test file of their own" saying where it is tested instead.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECTION = '## Source files without a test file of their own';

function sourceFiles(dir = 'supervisor'): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'dist' || entry.name === 'node_modules' ? [] : sourceFiles(file);
    return file.endsWith('.ts') && !file.endsWith('.d.ts') ? [file] : [];
  });
}

const testOf = (source: string): string => `tests/${source.replace(/\.ts$/, '.test.ts')}`;

// The files listed in the section, up to the next heading.
function listedWithoutTest(): string[] {
  const text = readFileSync(path.join(ROOT, 'CONTRIBUTING.md'), 'utf8');
  const start = text.indexOf(SECTION);
  expect(start, `CONTRIBUTING.md has no section "${SECTION}"`).toBeGreaterThanOrEqual(0);
  const body = text.slice(start + SECTION.length).split(/^## /m)[0] ?? '';
  return [...body.matchAll(/^- `(supervisor\/[^`]+)`: \S/gm)].map((match) => match[1] ?? '');
}

describe('the layout of the tests', () => {
  const sources = sourceFiles();
  const listed = listedWithoutTest();

  it('finds the supervisor\'s sources', () => {
    expect(sources).toContain('supervisor/main.ts');
    expect(sources).toContain('supervisor/child/supervision.ts');
  });

  it('gives every source file a test at its matching path, or a line saying why not', () => {
    expect(sources.filter((source) => !existsSync(path.join(ROOT, testOf(source))) && !listed.includes(source))).toEqual([]);
  });

  it('lists only files that exist and have no test of their own', () => {
    expect(listed.filter((file) => !sources.includes(file))).toEqual([]);
    expect(listed.filter((file) => existsSync(path.join(ROOT, testOf(file))))).toEqual([]);
  });
});
