// Installing health-gate leaves a project's own packages as they are: a project with its own pg 8.11.5 (as a user's
// `npm install pg` saves it, `^8.11.5`) keeps 8.11.5 after `npm install health-gate`, shared with the supervisor,
// which works with it. With exact pins, npm moved the project's pg to the supervisor's version.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase } from '../helpers/database.js';
import { createInstalledProject, packSupervisor, startInstalled, untilReady, type InstalledProject } from './packed-project.js';

const OWN_PG = '8.11.5';
let workDir: string;
let project: InstalledProject;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'own-dependencies-'));
  const tarball = await packSupervisor(workDir);
  project = await createInstalledProject(tarball.file, [`pg@${OWN_PG}`]);
}, 480_000);
afterAll(async () => {
  await Promise.all([workDir, project?.dir].filter(Boolean).map((dir) => rm(dir as string, { recursive: true, force: true })));
});

const versionAt = async (dir: string): Promise<string> => (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;

describe('a project with its own pg', () => {
  it(`keeps pg ${OWN_PG} after installing health-gate, and the supervisor uses that one`, async () => {
    expect(await versionAt(path.join(project.dir, 'node_modules/pg'))).toBe(OWN_PG);
    expect(existsSync(path.join(project.dir, 'node_modules/health-gate/node_modules/pg'))).toBe(false);
    const manifest = JSON.parse(await readFile(path.join(project.dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies.pg).toBe(`^${OWN_PG}`);
  });

  it('starts, migrates and gets ready with it', async () => {
    const database = await createTestDatabase('own_deps');
    const supervisor = startInstalled(project.dir, ['--required-tables', 'greetings', '--app-health-path', '/healthz', '--', 'node', 'server.js'], {
      DATABASE_URL: database.url,
      PORT: await freePort(),
    });
    try {
      await untilReady(supervisor);
    } finally {
      await supervisor.kill();
      await database.drop();
    }
  }, 90_000);
});
