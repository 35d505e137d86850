import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMigration, readMigrationFiles } from '../../../supervisor/migrations/files.js';

describe('parseMigration', () => {
  it('splits up and down sections', () => {
    const migration = parseMigration('0001_a.sql', '-- a comment\n-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;\n');
    expect(migration).toMatchObject({ name: '0001_a', up: 'CREATE TABLE a (id int);', down: 'DROP TABLE a;', transactional: true });
  });

  it('treats a file without markers as the up step', () => {
    expect(parseMigration('0002_b.sql', 'CREATE TABLE b (id int);')).toMatchObject({ up: 'CREATE TABLE b (id int);', down: undefined });
  });

  it('reads the no-transaction marker', () => {
    const migration = parseMigration('0003_c.sql', '-- migrate:no-transaction\n-- migrate:up\nCREATE INDEX CONCURRENTLY c_idx ON c (id);');
    expect(migration.transactional).toBe(false);
  });

  it('checksums the content, ignoring CRLF versus LF', () => {
    const lf = parseMigration('0001_a.sql', 'CREATE TABLE a (id int);\nSELECT 1;\n');
    const crlf = parseMigration('0001_a.sql', 'CREATE TABLE a (id int);\r\nSELECT 1;\r\n');
    const changed = parseMigration('0001_a.sql', 'CREATE TABLE a (id bigint);\nSELECT 1;\n');
    expect(crlf.checksum).toBe(lf.checksum);
    expect(changed.checksum).not.toBe(lf.checksum);
  });

  it.each([
    ['create_table.sql', 'CREATE TABLE x (id int);', /file name must look like/],
    ['0001_empty.sql', '-- migrate:up\n-- nothing\n-- migrate:down\nDROP TABLE x;', /up section is empty/],
    ['0001_twice.sql', '-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;', /more than one/],
    ['0001_stray.sql', 'SELECT 1;\n-- migrate:up\nSELECT 2;', /before the first/],
  ])('rejects %s', (name, content, message) => {
    expect(() => parseMigration(name, content)).toThrow(message);
    expect(() => parseMigration(name, content)).toThrow(expect.objectContaining({ code: 'SUP_ERR_MIGRATION_INVALID' }));
  });
});

describe('readMigrationFiles', () => {
  it('orders by name, equal numbers by the rest of the name, and ignores other files', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'files-'));
    try {
      await writeFile(path.join(dir, '0002_b.sql'), 'SELECT 2;');
      await writeFile(path.join(dir, '0001_a.sql'), 'SELECT 1;');
      await writeFile(path.join(dir, 'README.md'), '# notes');
      expect((await readMigrationFiles(dir)).map((file) => file.name)).toEqual(['0001_a', '0002_b']);
      await writeFile(path.join(dir, '0002_a.sql'), 'SELECT 3;');
      await writeFile(path.join(dir, '20240101120000-sequelize-style.sql'), 'SELECT 4;');
      expect((await readMigrationFiles(dir)).map((file) => file.name)).toEqual(['0001_a', '0002_a', '0002_b', '20240101120000-sequelize-style']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which folder it could not read', async () => {
    await expect(readMigrationFiles('/no/such/dir')).rejects.toMatchObject({ code: 'SUP_ERR_MIGRATION_INVALID', hint: expect.stringContaining('MIGRATIONS_DIR') });
  });
});

describe("pg_dump's \\restrict key", () => {
  const dump = (key: string): string =>
    `\\restrict ${key}\n\nSET statement_timeout = 0;\nCREATE TABLE public.items (id integer);\n\n\\unrestrict ${key}\n`;

  it('does not change the checksum of the same schema dumped again', () => {
    const first = parseMigration('0001_baseline.sql', dump('aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW'));
    const again = parseMigration('0001_baseline.sql', dump('zY8xW6vU4tS2rQ0pO8nM6lK4jI2hG0fE'));
    expect(again.checksum).toBe(first.checksum);
  });

  it('still accepts the checksum recorded before, of the file with its key', async () => {
    const { checksumOf } = await import('../../../supervisor/migrations/migration.js');
    const { planMigrations } = await import('../../../supervisor/migrations/runner.js');
    const content = dump('aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW');
    const file = parseMigration('0001_baseline.sql', content);
    const recorded = [{ name: '0001_baseline', checksum: checksumOf(content), appliedAt: undefined, durationMs: undefined }];
    expect(planMigrations([file], recorded).pending).toEqual([]);
    const edited = parseMigration('0001_baseline.sql', content.replace('id integer', 'id bigint'));
    expect(() => planMigrations([edited], recorded)).toThrow(expect.objectContaining({ code: 'SUP_ERR_CHECKSUM_MISMATCH' }));
  });
});
