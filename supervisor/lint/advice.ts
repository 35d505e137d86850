// What the linter says about each rule: why the statement is risky on a live table, and the safe way.
// squawk's own message and help are the fallback for rules without a line here.

export interface Advice {
  readonly why: string;
  readonly safely: string;
}

/**
 * Rules left out because the supervisor already does what they ask (a lock and a statement timeout for
 * each migration, each migration in a transaction or recorded only once it succeeded), or because they
 * are about style, not about blocking a live table.
 */
export const RULES_NOT_APPLIED: ReadonlySet<string> = new Set([
  'require-lock-timeout',
  'require-statement-timeout',
  'require-timeout-settings',
  'prefer-robust-stmts',
  'prefer-big-int',
  'prefer-bigint-over-int',
  'prefer-bigint-over-smallint',
  'prefer-identity',
  'prefer-text-field',
  'prefer-timestamp-tz',
  'prefer-timestamptz',
  'ban-char-field',
]);

const EXPAND_CONTRACT = 'stop using it in one release and change the schema in a later one (expand, then contract), so that the release still running during a rolling deploy keeps working';

export const ADVICE: Readonly<Record<string, Advice>> = {
  'require-concurrent-index-creation': {
    why: 'CREATE INDEX holds a SHARE lock on the table until the index is built: every write to it waits',
    safely: 'CREATE INDEX CONCURRENTLY IF NOT EXISTS … in a migration of its own that starts with `-- migrate:no-transaction`',
  },
  'require-concurrent-index-deletion': {
    why: 'DROP INDEX holds an ACCESS EXCLUSIVE lock on the table: reads and writes wait',
    safely: 'DROP INDEX CONCURRENTLY IF EXISTS … in a migration of its own that starts with `-- migrate:no-transaction`',
  },
  'changing-column-type': {
    why: 'changing a column type takes an ACCESS EXCLUSIVE lock and usually rewrites the whole table: reads and writes wait; code that reads the old type may break',
    safely: 'add a new column, write to both, backfill it in batches, switch the reads, then drop the old column in a later release',
  },
  'adding-required-field': {
    why: 'a NOT NULL column without a default makes every insert that does not set it fail, the release still running included (and fails at once on a table with rows)',
    safely: 'add it nullable or with a constant DEFAULT, backfill, and make it NOT NULL in a later release',
  },
  'adding-not-nullable-field': {
    why: 'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock: reads and writes wait',
    safely: 'ADD CONSTRAINT … CHECK (column IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later migration, then SET NOT NULL (PostgreSQL 12+ uses the valid constraint and skips the scan)',
  },
  'adding-field-with-default': {
    why: 'a volatile DEFAULT (or any default before PostgreSQL 11) rewrites the whole table under an ACCESS EXCLUSIVE lock',
    safely: 'add the column without a default, set the default, then backfill in batches',
  },
  'adding-foreign-key-constraint': {
    why: 'adding a foreign key checks every row while it locks both tables against writes',
    safely: 'ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then VALIDATE CONSTRAINT in a later migration',
  },
  'constraint-missing-not-valid': {
    why: 'adding a constraint checks every row while it holds a lock that blocks writes',
    safely: 'ADD CONSTRAINT … NOT VALID, then VALIDATE CONSTRAINT in a later migration',
  },
  'disallowed-unique-constraint': {
    why: 'ADD UNIQUE builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait',
    safely: 'CREATE UNIQUE INDEX CONCURRENTLY (a `-- migrate:no-transaction` migration), then ADD CONSTRAINT … UNIQUE USING INDEX',
  },
  'adding-primary-key-constraint': {
    why: 'ADD PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock: reads and writes wait',
    safely: 'CREATE UNIQUE INDEX CONCURRENTLY (a `-- migrate:no-transaction` migration), then ADD CONSTRAINT … PRIMARY KEY USING INDEX',
  },
  'ban-drop-column': { why: 'the release still running during a rolling deploy may read or write the column', safely: EXPAND_CONTRACT },
  'ban-drop-table': { why: 'the release still running during a rolling deploy may use the table', safely: EXPAND_CONTRACT },
  'renaming-column': { why: 'the release still running during a rolling deploy uses the old name', safely: EXPAND_CONTRACT },
  'renaming-table': { why: 'the release still running during a rolling deploy uses the old name', safely: EXPAND_CONTRACT },
};
