// Which kind a folder of JS/TS migrations is, told from the files without loading them; mixed folders refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMigrationFiles } from '../../../supervisor/migrations/files.js';
import { kindFromSource, opensOwnTransaction } from '../../../supervisor/migrations/script-files.js';

let dir: string;
let projectDir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scripts-'));
  projectDir = await mkdtemp(path.join(os.tmpdir(), 'project-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(projectDir, { recursive: true, force: true });
});

describe('kindFromSource', () => {
  it.each([
    ['module.exports = { async up(queryInterface, Sequelize) {} }', 'sequelize'],
    ['module.exports = { up: async (queryInterface) => {} }', 'sequelize'],
    ['module.exports = { up: function (qi, S) {} }', 'sequelize'],
    ['export async function up({ context }) {}', 'module'],
    ['export const up = async ({ context: client }) => {}', 'module'],
    ['exports.up = async ({ context }) => {}', 'module'],
    ["export async function up({ context }: { context: import('pg').ClientBase }): Promise<void> {}", 'module'],
    ['/* up(queryInterface, Sequelize) */ export async function up({ context }) {}', 'module'],
    ['export async function up() {}', undefined],
  ])('%s → %s', (source, kind) => {
    expect(kindFromSource(source)).toBe(kind);
  });

  it('sees a migration that opens its own transaction', () => {
    expect(opensOwnTransaction('await queryInterface.sequelize.transaction(async (t) => {})')).toBe(true);
    expect(opensOwnTransaction('// no sequelize.transaction( here\nawait queryInterface.createTable("a", {})')).toBe(false);
  });
});

describe('readMigrationFiles with JS/TS files', () => {
  it('reads modules, keyed by the name without extension, in name order', async () => {
    await writeFile(path.join(dir, '0002_b.cjs'), 'exports.up = async ({ context }) => {};');
    await writeFile(path.join(dir, '0001_a.js'), 'export async function up({ context }) {}');
    await writeFile(path.join(dir, 'types.d.ts'), 'export {};');
    const files = await readMigrationFiles(dir, { projectDir });
    expect(files.map((file) => [file.kind, file.name, file.hasDown])).toEqual([
      ['module', '0001_a', false],
      ['module', '0002_b', false],
    ]);
  });

  it('refuses a folder that mixes sequelize-cli migrations with modules, naming them', async () => {
    await writeFile(path.join(dir, '20240101120000-a.js'), 'module.exports = { async up(queryInterface, Sequelize) {} };');
    await writeFile(path.join(dir, '20240102120000-b.js'), 'export async function up({ context }) {}');
    await expect(readMigrationFiles(dir, { projectDir })).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_INVALID',
      message: expect.stringMatching(/mixes sequelize-cli migrations.*20240101120000-a\.js.*umzug-style modules.*20240102120000-b\.js/),
    });
  });

  it('refuses SQL files beside JS files', async () => {
    await writeFile(path.join(dir, '0001_a.sql'), 'SELECT 1;');
    await writeFile(path.join(dir, '0002_b.js'), 'export async function up({ context }) {}');
    await expect(readMigrationFiles(dir, { projectDir })).rejects.toThrow(/mixes SQL files \(0001_a\.sql\) with JS\/TS files \(0002_b\.js\)/);
  });

  it('takes files that do not say as sequelize-cli migrations when the project has a .sequelizerc', async () => {
    await writeFile(path.join(dir, '20240101120000-a.js'), 'module.exports = { async up() {} };');
    expect((await readMigrationFiles(dir, { projectDir }))[0]?.kind).toBe('module');
    await writeFile(path.join(projectDir, '.sequelizerc'), 'module.exports = {};');
    expect((await readMigrationFiles(dir, { projectDir }))[0]).toMatchObject({ kind: 'sequelize', name: '20240101120000-a.js' });
  });

  it('refuses a JS file whose name does not start with a number', async () => {
    await writeFile(path.join(dir, 'helpers.js'), 'module.exports = {};');
    await expect(readMigrationFiles(dir, { projectDir })).rejects.toThrow(/helpers\.js in .* must start with a number/);
  });

  it('calls a folder with nothing to run an error, naming what it holds', async () => {
    await writeFile(path.join(dir, 'README.md'), '# notes');
    await writeFile(path.join(dir, 'schema.json'), '{}');
    await expect(readMigrationFiles(dir, { projectDir })).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_INVALID',
      message: expect.stringContaining('holds no migration: found only README.md, schema.json'),
    });
    await rm(path.join(dir, 'README.md'));
    await rm(path.join(dir, 'schema.json'));
    await expect(readMigrationFiles(dir, { projectDir })).rejects.toThrow(/holds no migration: it is empty/);
  });

  it("points at .sequelizerc's migrations-path when the folder does not exist", async () => {
    await writeFile(path.join(projectDir, '.sequelizerc'), "const path = require('path');\nmodule.exports = { 'migrations-path': path.join(__dirname, 'db', 'migrations') };\n");
    await expect(readMigrationFiles(path.join(projectDir, 'migrations'), { projectDir })).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_INVALID',
      hint: expect.stringContaining('set MIGRATIONS_DIR=db/migrations'),
    });
  });
});
