// docs/configuration.md's tables are generated from SETTING_GROUPS (`npm run docs`), the table `--help` prints: the
// committed page must be what the generator writes, and every variable the real command's --help names must be
// documented somewhere in docs/.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { withSettingsTables } from '../../scripts/configuration-page.js';
import { PROJECT_ROOT, docsPages, readPage } from '../helpers/docs.js';

const run = promisify(execFile);

describe('docs/configuration.md', () => {
  it('has the tables that `npm run docs` generates from the settings table', () => {
    const page = readPage('docs/configuration.md');
    expect(page, 'docs/configuration.md is out of date: run `npm run docs`').toBe(withSettingsTables(page));
  });

  it('documents, with the rest of docs/, every variable that `health-gate --help` prints', async () => {
    const { stdout } = await run(process.execPath, [path.join(PROJECT_ROOT, 'supervisor/bin/health-gate.js'), '--help']);
    const variables = [...stdout.matchAll(/^\s+--[a-z-]+ <value>\s+([A-Z][A-Z0-9_]*) \(default: /gm)].map((match) => match[1] as string);
    expect(variables.length).toBeGreaterThan(30);
    const docs = docsPages().map(readPage).join('\n');
    expect(variables.filter((variable) => !docs.includes(`\`${variable}\``))).toEqual([]);
  });
});
