// What ties a file to its history row: the name (the file name without its extension) and a checksum that a
// checkout with CRLF line endings does not change.
import { describe, expect, it } from 'vitest';
import { checksumOf, isScriptMigration, stripExtension } from '../../../supervisor/migrations/migration.js';
import { parseMigration } from '../../../supervisor/migrations/files.js';

describe('checksumOf', () => {
  it('is the same for LF and CRLF line endings, and differs when the text does', () => {
    expect(checksumOf('CREATE TABLE a (id int);\r\nSELECT 1;\r\n')).toBe(checksumOf('CREATE TABLE a (id int);\nSELECT 1;\n'));
    expect(checksumOf('SELECT 1;')).not.toBe(checksumOf('SELECT 2;'));
    expect(checksumOf('')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('stripExtension', () => {
  it('drops only the last extension', () => {
    expect(stripExtension('0001_create_users.sql')).toBe('0001_create_users');
    expect(stripExtension('20240101120000-add.v2.cjs')).toBe('20240101120000-add.v2');
  });
});

describe('isScriptMigration', () => {
  it('tells code migrations from SQL ones', () => {
    const sql = parseMigration('0001_a.sql', 'SELECT 1;');
    expect(isScriptMigration(sql)).toBe(false);
    expect(isScriptMigration({ ...sql, kind: 'prisma', sql: 'SELECT 1;' })).toBe(false);
    for (const kind of ['module', 'sequelize', 'knex', 'node-pg-migrate'] as const) expect(isScriptMigration({ ...sql, kind })).toBe(true);
  });
});
