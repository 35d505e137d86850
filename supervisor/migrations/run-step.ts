// Runs one migration's step (SQL, module or sequelize-cli) together with its history change, and the checks made
// before anything runs: what makes each migration whole or nothing.
import type pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCodes, SupervisorError, isSupervisorError } from '../core/errors.js';
import type { Queryable } from '../database/connection.js';
import { type MigrationFile, type ScriptMigration, type SqlMigration, type ToolSqlMigration, isScriptMigration } from './migration.js';
import type { ToolHistory } from './formats/tool-history.js';
import { deleteApplied, recordApplied } from './history.js';
import { loadScript } from './script-loader.js';
import type { ScriptRunner } from './script-runners.js';
import { findTransactionStatements } from './transaction-statements.js';
import { parseStatements } from '../sql/sql-statements.js';

/** How migrations run: the settings of each step, the progress callbacks, the stop. */
export interface MigrationRunOptions {
  readonly logger: Logger;
  /** `lock_timeout` for each migration's statements, so it never queues production traffic for long. */
  readonly lockTimeoutMs: number;
  /** `statement_timeout` for each migration's statements; 0 disables it. */
  readonly statementTimeoutMs: number;
  /** Called before each migration starts, e.g. to show progress on /health. */
  readonly onMigrating?: (file: MigrationFile, index: number, total: number) => void;
  /** Called after each migration applied (committed), with the time it took. */
  readonly onMigrated?: (file: MigrationFile, durationMs: number) => void;
  /** Aborted on a stop: no migration starts after it, and the one it interrupted is reported as such. */
  readonly signal?: AbortSignal;
  /** How sequelize-cli migrations connect (they run on connections of the user's Sequelize): the supervisor's own options. */
  readonly connection?: pg.ClientConfig;
  /**
   * The user's project, where their `sequelize` package is resolved from.
   * @default process.cwd()
   */
  readonly projectDir?: string;
}

/** Which step of a migration runs. */
export type Direction = 'up' | 'down';

async function setTimeouts(client: Queryable, options: MigrationRunOptions, local: boolean): Promise<void> {
  await client.query("SELECT set_config('lock_timeout', $1, $3), set_config('statement_timeout', $2, $3)", [
    String(options.lockTimeoutMs),
    String(options.statementTimeoutMs),
    local,
  ]);
}

function migrationFailed(file: MigrationFile, direction: Direction, error: unknown): SupervisorError {
  if (isSupervisorError(error)) return error;
  // Sequelize wraps the server's error: its `parent` has the SQLSTATE.
  const pgError = ((error as { parent?: unknown }).parent ?? error) as { message?: string; code?: string; position?: string };
  let where = '';
  // The line in the file: of the failing statement (see runStatements), or of the syntax error's position.
  const lineInSql = (error as { sqlLine?: number }).sqlLine ?? undefined;
  const sectionStart = file.kind === 'sql' ? (file.firstLine[direction] ?? 1) : 1;
  if (lineInSql !== undefined) {
    where = ` at line ${sectionStart + lineInSql - 1} of ${file.fileName}`;
  } else if (file.kind === 'sql' && pgError.position) {
    const sql = (direction === 'up' ? file.up : file.down) ?? '';
    where = ` at line ${sectionStart + lineAt(sql, Number(pgError.position)) - 1} of ${file.fileName}`;
  } else if ((file.kind === 'prisma' || file.kind === 'drizzle') && pgError.position) {
    where = ` at line ${lineAt(file.sql, Number(pgError.position))} of ${file.fileName}`;
  }
  const reason = `${(error as Error).message ?? String(error)}${pgError.code ? ` (SQLSTATE ${pgError.code})` : ''}`;
  if (direction === 'down') {
    return new SupervisorError(
      ErrorCodes.MIGRATION_FAILED,
      `Reverting migration ${file.name} failed${where}: ${reason}. ${file.transactional ? 'It stays applied.' : 'What it changed before failing stays changed.'}`,
      { cause: error, hint: `Fix the down step of ${file.fileName}; the migrations reverted before it stay reverted.` },
    );
  }
  return new SupervisorError(
    ErrorCodes.MIGRATION_FAILED,
    `Migration ${file.name} failed${where}: ${reason}. ` +
      (file.transactional
        ? 'Nothing of it was applied.'
        : file.kind === 'sequelize'
          ? 'It manages its own transaction: what it committed before failing stays, and it is not recorded as applied.'
          : 'It ran outside a transaction: what it did before failing stays done.'),
    { cause: error, hint: `Fix ${file.fileName} and deploy again; the migrations before it stay applied.` },
  );
}

/**
 * Runs SQL of several statements one statement at a time (inside the caller's transaction, so with the same effect as
 * one query), so that an error at run time, which has no position, still names its statement's line: the error gets
 * `sqlLine`, the line in `sql`. SQL that does not parse runs as one query: the server's syntax error has a position.
 */
async function runStatements(client: Queryable, sql: string): Promise<void> {
  const statements = await parseStatements(sql);
  if (!statements || statements.length <= 1) {
    await client.query(sql);
    return;
  }
  for (const statement of statements) {
    try {
      await client.query(statement.text);
    } catch (error) {
      const position = Number((error as { position?: string }).position ?? 0);
      const sqlLine = statement.firstLine + (position > 0 ? lineAt(statement.text, position) - 1 : 0);
      throw Object.assign(error as object, { sqlLine });
    }
  }
}

function lineAt(sql: string, position: number): number {
  return sql.slice(0, Math.max(0, position - 1)).split('\n').length;
}

/** What one run needs besides the client: the history table, and the tool that runs code migrations of another tool. */
export interface RunContext {
  /** `schema_migrations`, qualified with its schema (see historyTableName). */
  readonly historyTable: string;
  /** Another tool's history table (Prisma, drizzle-kit), written instead of `schema_migrations`. */
  readonly tool: ToolHistory | undefined;
  /** Runs sequelize-cli, knex and node-pg-migrate migrations with their history rows (see script-runners.ts). */
  readonly runner: ScriptRunner | undefined;
}

// The step itself, on `client` (SQL, module) inside whatever transaction the caller opened.
async function runStep(client: Queryable, file: SqlMigration | ScriptMigration | ToolSqlMigration, direction: Direction): Promise<void> {
  if (file.kind === 'sql') {
    const sql = (direction === 'up' ? file.up : file.down) ?? '';
    // Outside a transaction, several statements sent as one query still run as one implicit transaction: kept so.
    await (file.transactional ? runStatements(client, sql) : client.query(sql));
    return;
  }
  if (!isScriptMigration(file)) {
    await runStatements(client, file.sql);
    return;
  }
  const loaded = await loadScript(file);
  const fn = direction === 'up' ? loaded.up : loaded.down;
  if (!fn) throw downUnavailable([`${file.fileName} exports no down function`]);
  // umzug's parameters: `context` is the migrating pg client, inside the migration's transaction.
  await fn({ name: file.name, path: file.path, context: client });
}

// Runs one step of a migration together with its history change (row written on up, deleted on down): in one
// transaction, or (no-transaction files) as one statement with session settings reset after. A migration may change
// session settings (pg_dump's output sets search_path to '', check_function_bodies, row_security…): RESET ALL puts
// them back to the connection's own before the history row, so they reach neither the row nor the next migration.
export async function runSection(
  client: Queryable,
  file: MigrationFile,
  direction: Direction,
  options: MigrationRunOptions,
  context: RunContext,
): Promise<number> {
  if (direction === 'down' && !file.hasDown) throw downUnavailable([`${file.name} has no down step`]);
  const startedAt = performance.now();
  if (isScriptMigration(file) && context.runner) {
    try {
      await context.runner.run(file, direction);
    } catch (error) {
      throw migrationFailed(file, direction, error);
    }
    return performance.now() - startedAt;
  }
  const tool = context.tool;
  const recordHistory = (): Promise<void> =>
    tool
      ? direction === 'up'
        ? tool.record(client, [file])
        : tool.remove(client, file)
      : direction === 'up'
        ? recordApplied(client, file, performance.now() - startedAt, context.historyTable)
        : deleteApplied(client, file.name, context.historyTable);
  if (file.transactional) {
    await client.query('BEGIN');
    try {
      await setTimeouts(client, options, true);
      await runStep(client, file, direction);
      await client.query('RESET ALL');
      await recordHistory();
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw migrationFailed(file, direction, error);
    }
  } else {
    try {
      await setTimeouts(client, options, false);
      await runStep(client, file, direction);
      await client.query('RESET ALL');
      await recordHistory();
    } catch (error) {
      throw migrationFailed(file, direction, error);
    } finally {
      await client.query('RESET ALL').catch(() => {});
    }
  }
  return performance.now() - startedAt;
}

/**
 * Refuses, before anything runs, a transactional SQL migration whose step would begin or end a transaction: inside the
 * migration's own transaction a COMMIT would apply half of it, with no history row.
 */
export async function refuseTransactionStatements(files: readonly MigrationFile[], direction: Direction): Promise<void> {
  const problems: string[] = [];
  for (const file of files) {
    if (file.kind !== 'sql' || !file.transactional) continue;
    const sql = direction === 'up' ? file.up : file.down;
    if (sql === undefined) continue;
    for (const found of await findTransactionStatements(sql)) {
      const line = (file.firstLine[direction] ?? 1) + found.line - 1;
      problems.push(`${file.fileName} line ${line}: ${found.statement.split('\n')[0]}`);
    }
  }
  if (problems.length === 0) return;
  throw new SupervisorError(
    ErrorCodes.MIGRATION_INVALID,
    `Migrations that would end the transaction they run in (nothing was run): ${problems.join('; ')}`,
    {
      hint:
        'Each migration already runs in its own transaction, with its history row: remove BEGIN/START TRANSACTION/COMMIT/ROLLBACK. ' +
        'A migration that must control its transactions says `-- migrate:no-transaction` on its first line and runs as it is, without that promise.',
    },
  );
}

export function downUnavailable(reasons: readonly string[]): SupervisorError {
  return new SupervisorError(ErrorCodes.DOWN_UNAVAILABLE, `Cannot revert: ${reasons.join('; ')}. Nothing was reverted.`, {
    hint: 'Undo it by hand and delete its row from schema_migrations, or write a new migration that undoes it.',
  });
}
