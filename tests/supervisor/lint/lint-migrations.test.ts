// The migration lint with the real squawk binary: risky migrations named by file and rule, safe ones
// passing without a word about the timeouts the supervisor sets itself, accepted risks shown as accepted.
import { describe, expect, it } from 'vitest';
import { lintMigrations, type LintSubject } from '../../../supervisor/lint/lint-migrations.js';

function sql(name: string, content: string, transactional = !content.includes('-- migrate:no-transaction')): LintSubject {
  return { name, fileName: `${name}.sql`, content, transactional };
}

const RISKY = [
  sql('0004_index_orders', '-- migrate:up\nCREATE INDEX orders_user_idx ON orders (user_id);\n\n-- migrate:down\nDROP INDEX orders_user_idx;\n'),
  sql('0005_widen_total', 'ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n'),
  sql('0006_require_note', '-- migrate:up\n-- a note for every order\nALTER TABLE orders\n  ADD COLUMN note text NOT NULL;\n'),
];

const SAFE = [
  sql('0001_create_orders', '-- migrate:up\nCREATE TABLE orders (id serial PRIMARY KEY, user_id int, total int, created_at timestamp DEFAULT now());\n-- migrate:down\nDROP TABLE orders;\n'),
  sql('0002_index_orders_concurrently', '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY orders_created_idx ON orders (created_at);\n'),
  sql('0003_add_nullable', 'ALTER TABLE orders ADD COLUMN coupon text;\n'),
];

describe('lintMigrations', () => {
  it('names each risky file with its rule and line, why, and the safe way', async () => {
    const report = await lintMigrations(RISKY);
    expect(report.risky).toBe(3);
    expect(report.accepted).toBe(0);
    expect(report.files.map((file) => [file.fileName, file.findings.map((finding) => [finding.rule, finding.line])])).toEqual([
      ['0004_index_orders.sql', [['require-concurrent-index-creation', 2]]],
      ['0005_widen_total.sql', [['changing-column-type', 1]]],
      ['0006_require_note.sql', [['adding-required-field', 4]]],
    ]);
    const index = report.files[0]!.findings[0]!;
    expect(index.why).toContain('SHARE lock');
    expect(index.safely).toContain('CONCURRENTLY');
    expect(index.safely).toContain('-- migrate:no-transaction');
  });

  it('passes a safe set without asking for the timeouts or the transaction the supervisor provides', async () => {
    const report = await lintMigrations(SAFE);
    expect(report.files.flatMap((file) => file.findings)).toEqual([]);
    expect(report.risky).toBe(0);
    expect(report.files.every((file) => file.linted)).toBe(true);
  });

  it('shows a risk accepted by a comment above its statement, or for the whole file, as accepted', async () => {
    const report = await lintMigrations([
      sql('0007_small_table_index', '-- lint:accept require-concurrent-index-creation -- a table of 20 rows\nCREATE INDEX settings_key_idx ON settings (key);\nCREATE INDEX settings_value_idx ON settings (value);\n'),
      sql('0008_widen', '-- lint:accept-file changing-column-type reviewed with the DBA\nALTER TABLE settings ALTER COLUMN value TYPE text;\n'),
    ]);
    const [indexes, widen] = report.files;
    // The comment covers the statement right below it, not the next one.
    expect(indexes!.findings.map((finding) => [finding.line, finding.accepted])).toEqual([
      [2, { line: 1, reason: 'a table of 20 rows' }],
      [3, undefined],
    ]);
    expect(widen!.findings).toEqual([expect.objectContaining({ rule: 'changing-column-type', accepted: { line: 1, reason: 'reviewed with the DBA' } })]);
    expect(report).toMatchObject({ risky: 1, accepted: 2 });
  });

  it('lints only the up section, and says which migrations it cannot lint', async () => {
    const report = await lintMigrations([
      sql('0009_drop_on_down', '-- migrate:up\nALTER TABLE orders ADD COLUMN ref text;\n-- migrate:down\nALTER TABLE orders DROP COLUMN ref;\n'),
      { name: '20240101000000-create-users', fileName: '20240101000000-create-users.js', content: 'module.exports = {}', transactional: true, notLintable: 'a sequelize-cli migration: its SQL is known only when it runs' },
    ]);
    expect(report.files).toEqual([
      expect.objectContaining({ fileName: '0009_drop_on_down.sql', linted: true, findings: [] }),
      expect.objectContaining({ linted: false, reason: 'a sequelize-cli migration: its SQL is known only when it runs' }),
    ]);
  });
});
