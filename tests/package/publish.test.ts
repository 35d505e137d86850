// Ready to publish: `npm publish --dry-run` passes without a warning about the package itself, and the manifest
// says where the project lives (repository, homepage, bugs), what it is for (keywords) and what it runs on.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../helpers/supervisor-process.js';
import { userEnv } from './packed-project.js';

const run = promisify(execFile);
const SUPERVISOR_DIR = path.join(PROJECT_ROOT, 'supervisor');
const REPOSITORY = 'https://github.com/health-gate/health-gate';

describe('the package health-gate', () => {
  it('passes npm publish --dry-run with no warning but the login it would need', async () => {
    // Without the prepack build: `npm test` has just built dist/, which other test files are running.
    const { stdout, stderr } = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], { cwd: SUPERVISOR_DIR, env: userEnv(), timeout: 120_000 });
    const warnings = stderr.split('\n').filter((line) => /^npm warn/i.test(line) && !/requires you to be logged in/.test(line));
    expect(warnings).toEqual([]);
    expect(`${stdout}${stderr}`).toMatch(/\+ health-gate@\d+\.\d+\.\d+/);
  });

  it('names its repository, homepage, issues, keywords, licence and Node versions', async () => {
    const manifest = JSON.parse(await readFile(path.join(SUPERVISOR_DIR, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      repository: { type: 'git', url: `git+${REPOSITORY}.git`, directory: 'supervisor' },
      homepage: `${REPOSITORY}#readme`,
      bugs: { url: `${REPOSITORY}/issues` },
      license: 'MIT',
      engines: { node: expect.stringMatching(/^>=22\b/) },
      bin: { 'health-gate': expect.any(String) },
    });
    expect(manifest.keywords).toEqual(expect.arrayContaining(['postgres', 'migrations', 'health-check', 'render', 'kubernetes']));
  });
});
