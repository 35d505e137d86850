// The project's own migration tool, found from its configuration files as each tool reads them.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findProjectMigrations } from '../../../supervisor/core/project-tools.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'project-tools-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
  await writeFile(path.join(dir, file), content);
}

describe('findProjectMigrations', () => {
  it('finds none in a project without a known tool', () => {
    expect(findProjectMigrations(dir)).toBeUndefined();
  });

  it('Prisma: prisma/schema.prisma, package.json#prisma.schema, prisma.config.ts and the schema folder', async () => {
    await write('prisma/schema.prisma', 'datasource db { provider = "postgresql" }');
    expect(findProjectMigrations(dir)).toEqual({ tool: 'prisma', dir: 'prisma/migrations' });

    await write('package.json', JSON.stringify({ prisma: { schema: 'db/schema.prisma' } }));
    await write('db/schema.prisma', '');
    expect(findProjectMigrations(dir)).toEqual({ tool: 'prisma', dir: 'db/migrations' });

    await write('prisma.config.ts', "import { defineConfig } from 'prisma/config';\nexport default defineConfig({ schema: 'prisma/schema' });\n");
    await write('prisma/schema/models.prisma', '');
    expect(findProjectMigrations(dir)).toEqual({ tool: 'prisma', dir: 'prisma/migrations' });
    await mkdir(path.join(dir, 'prisma/schema/migrations'));
    expect(findProjectMigrations(dir)).toEqual({ tool: 'prisma', dir: 'prisma/schema/migrations' });

    await write('prisma.config.ts', "export default defineConfig({ schema: 'prisma', migrations: { path: 'db/prisma-migrations', seed: 'tsx seed.ts' } });\n");
    expect(findProjectMigrations(dir)).toEqual({ tool: 'prisma', dir: 'db/prisma-migrations' });
  });

  it("knex: the knexfile's configuration for NODE_ENV, or its literal settings when it does not load", async () => {
    await write(
      'knexfile.cjs',
      "module.exports = { development: { client: 'pg', migrations: { directory: './db/dev' } }, production: { client: 'pg', migrations: { directory: './db/migrations', tableName: 'migrations', schemaName: 'app' } } };",
    );
    expect(findProjectMigrations(dir)).toEqual({ tool: 'knex', dir: './db/dev' });
    expect(findProjectMigrations(dir, 'production')).toEqual({ tool: 'knex', dir: './db/migrations', table: 'migrations', schema: 'app' });

    await rm(path.join(dir, 'knexfile.cjs'));
    await write('knexfile.ts', "import 'not-installed';\nexport default { client: 'pg', migrations: { directory: './src/migrations', tableName: 'knex_history' } };\n");
    expect(findProjectMigrations(dir)).toEqual({ tool: 'knex', dir: './src/migrations', table: 'knex_history' });
  });

  it("drizzle-kit: drizzle.config's out and migrations table, read without running it", async () => {
    await write('drizzle.config.ts', "import 'not-installed';\nexport default { out: './db/drizzle', migrations: { table: 'history', schema: 'meta' } };\n");
    expect(findProjectMigrations(dir)).toEqual({ tool: 'drizzle-kit', dir: './db/drizzle', table: 'history', schema: 'meta' });
  });

  it("node-pg-migrate: its dependency, and -m / -t in the project's scripts", async () => {
    await write('package.json', JSON.stringify({ devDependencies: { 'node-pg-migrate': '^7' }, scripts: { migrate: 'node-pg-migrate -m db/migrations --migrations-table=history' } }));
    expect(findProjectMigrations(dir)).toEqual({ tool: 'node-pg-migrate', dir: 'db/migrations', table: 'history' });
  });
});

describe("a sequelize-cli project's seeders", () => {
  it('are not migrations: the folder found is migrations-path, and seeders-path is not read', async () => {
    await write('.sequelizerc', "const path = require('node:path');\nmodule.exports = { 'migrations-path': path.resolve(__dirname, 'db', 'migrations'), 'seeders-path': path.resolve(__dirname, 'db', 'seeders') };\n");
    await write('package.json', JSON.stringify({ type: 'commonjs' }));
    await write('db/migrations/20240101120000-create-users.js', 'module.exports = { async up(queryInterface, Sequelize) {}, async down(queryInterface) {} };\n');
    await write('db/seeders/20240101120000-demo-users.js', 'module.exports = { async up(queryInterface, Sequelize) {}, async down(queryInterface) {} };\n');
    const found = findProjectMigrations(dir);
    expect(found?.tool).toBe('sequelize-cli');
    expect(path.resolve(dir, found!.dir)).toBe(path.join(dir, 'db/migrations'));
    const { readMigrationFiles } = await import('../../../supervisor/migrations/files.js');
    const files = await readMigrationFiles(path.resolve(dir, found!.dir), { projectDir: dir });
    expect(files.map((file) => file.path)).toEqual([path.join(dir, 'db/migrations/20240101120000-create-users.js')]);
  });
});

describe('a migrations folder that does not exist', () => {
  it("names the folder the project's tool configuration keeps them in", async () => {
    await write('knexfile.cjs', "module.exports = { client: 'pg', migrations: { directory: './db/migrations' } };");
    const { readMigrationFiles } = await import('../../../supervisor/migrations/files.js');
    await expect(readMigrationFiles(path.join(dir, 'migrations'), { projectDir: dir })).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_INVALID',
      hint: 'Your knex configuration keeps the migrations in db/migrations: set MIGRATIONS_DIR=db/migrations, or unset it.',
    });
  });
});
