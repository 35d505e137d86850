// Runs sequelize-cli migrations as they are, with the user's own `sequelize` package (resolved from their project,
// never bundled), and keeps SequelizeMeta as sequelize-cli does. Better than sequelize-cli: each migration and its
// SequelizeMeta row in one transaction. Sequelize gets a pool of exactly one connection, so that every queryInterface
// call of the migration goes through the connection on which the runner opened the transaction. A migration that
// opens its own transaction (`queryInterface.sequelize.transaction(...)`) runs as sequelize-cli would run it.
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { ScriptMigration } from './migration.js';
import { loadScript } from './script-loader.js';
import { findTransactionStatements } from './transaction-statements.js';

// The few members of the user's Sequelize that are used here.
interface SequelizeInstance {
  query(sql: string | { query?: string }, options?: { bind?: unknown[] }): Promise<unknown>;
  getQueryInterface(): unknown;
  close(): Promise<void>;
  transaction: unknown;
}
type SequelizeModule = { Sequelize: new (options: Record<string, unknown>) => SequelizeInstance };

export interface SequelizeRunOptions {
  /** Where the user's `sequelize` package is resolved from (their project, with its package.json). */
  readonly projectDir: string;
  /** The migrations folder: `sequelize` is also looked for from there. */
  readonly migrationsDir: string;
  /** How to connect: the supervisor's own connection options (its URL, TLS, connect timeout). */
  readonly connection: pg.ClientConfig;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

/** Runs the steps of sequelize-cli migrations; `close` ends its connections. */
export interface SequelizeRunner {
  /** Runs `up` or `down` with its SequelizeMeta change (the table exists: the runner made sure of it under the lock). */
  run(file: ScriptMigration, direction: 'up' | 'down'): Promise<void>;
  close(): Promise<void>;
}

/** The user's `sequelize` module, from their project; a clear error when it is not installed there. */
export function requireUserSequelize(projectDir: string, migrationsDir: string): unknown {
  for (const from of [projectDir, migrationsDir]) {
    try {
      return createRequire(path.join(path.resolve(from), 'package.json'))('sequelize');
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new SupervisorError(
    ErrorCodes.MIGRATION_INVALID,
    `The migrations in ${migrationsDir} are sequelize-cli migrations, but the sequelize package cannot be found from ${projectDir}`,
    { hint: 'Install it in your project (`npm install sequelize pg`) and start the supervisor from the project folder.' },
  );
}

// pg as Sequelize loads it, but every connection made with the supervisor's options (URL, TLS), Sequelize's type parsers kept.
function dialectModuleFor(connection: pg.ClientConfig): unknown {
  class Client extends pg.Client {
    constructor(sequelizeConfig: pg.ClientConfig) {
      super({ ...connection, application_name: 'supervisor-sequelize', types: sequelizeConfig.types });
    }
  }
  return { ...pg, Client };
}

function createInstance(module: SequelizeModule, options: SequelizeRunOptions, pool: Record<string, number>): SequelizeInstance {
  return new module.Sequelize({
    dialect: 'postgres',
    dialectModule: dialectModuleFor(options.connection),
    logging: (sql: string) => options.logger.debug({ event: 'sequelize_sql', sql }, sql),
    pool,
  });
}

/** Opens the runner: the user's Sequelize with a pool of one connection (opened at the first migration). */
export function openSequelizeRunner(options: SequelizeRunOptions): SequelizeRunner {
  const module = requireUserSequelize(options.projectDir, options.migrationsDir) as SequelizeModule & Record<string, unknown>;
  // One connection, never evicted while a migration's transaction is open on it.
  const single = createInstance(module, options, { max: 1, min: 0, idle: 2 ** 31 - 1, acquire: 60_000, evict: 2 ** 31 - 1 });
  // Safety nets for what the source scan (opensOwnTransaction) did not see: inside the runner's transaction, a
  // transaction of the migration's own, or a COMMIT it sends, would apply half of it. It fails instead, and rolls back.
  single.transaction = () =>
    Promise.reject(new Error('opened its own transaction, which the supervisor did not see in its source; nothing of it was applied'));
  const query = single.query.bind(single);
  single.query = async (sql, queryOptions) => {
    const text = typeof sql === 'string' ? sql : (sql.query ?? '');
    if (MAYBE_TRANSACTION_CONTROL.test(text)) {
      const [found] = await findTransactionStatements(text);
      if (found) throw new Error(`sends \`${found.statement}\` itself, which would end the migration's transaction; nothing of it was applied`);
    }
    return query(sql, queryOptions);
  };
  let shared: SequelizeInstance | undefined;

  const inTransaction = async (file: ScriptMigration, direction: 'up' | 'down', step: LoadedStep): Promise<void> => {
    await query('BEGIN');
    try {
      await query("SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true)", {
        bind: [String(options.lockTimeoutMs), String(options.statementTimeoutMs)],
      });
      await step(single.getQueryInterface(), module);
      await query(
        direction === 'up' ? 'INSERT INTO "SequelizeMeta" (name) VALUES ($1)' : 'DELETE FROM "SequelizeMeta" WHERE name = $1',
        { bind: [file.name] },
      );
      await query('COMMIT');
    } catch (error) {
      await query('ROLLBACK').catch(() => {});
      throw error;
    }
  };

  // As sequelize-cli runs it: the migration's own transaction is all the atomicity there is.
  const onItsOwn = async (file: ScriptMigration, direction: 'up' | 'down', step: LoadedStep): Promise<void> => {
    shared ??= createInstance(module, options, { max: 5, min: 0, idle: 10_000, acquire: 60_000 });
    options.logger.warn(
      { event: 'migration_own_transaction', migration: file.name },
      `${file.name} opens its own transaction: it runs as sequelize-cli runs it, and its atomicity is its own`,
    );
    await step(shared.getQueryInterface(), module);
    await shared.query(
      direction === 'up' ? 'INSERT INTO "SequelizeMeta" (name) VALUES ($1)' : 'DELETE FROM "SequelizeMeta" WHERE name = $1',
      { bind: [file.name] },
    );
  };

  return {
    async run(file, direction) {
      const loaded = await loadScript(file);
      const fn = direction === 'up' ? loaded.up : loaded.down;
      if (!fn) throw new Error(`${file.fileName} exports no down function`);
      const step: LoadedStep = (queryInterface, sequelize) => fn(queryInterface, sequelize);
      await (file.transactional ? inTransaction(file, direction, step) : onItsOwn(file, direction, step));
    },
    async close() {
      await Promise.all([single.close(), shared?.close()].map((closing) => closing?.catch(() => {})));
    },
  };
}

// A cheap look before the parser: SQL with none of these words controls no transaction.
const MAYBE_TRANSACTION_CONTROL = /\b(?:BEGIN|START|COMMIT|END|ROLLBACK|ABORT|PREPARE)\b/i;

type LoadedStep = (queryInterface: unknown, sequelize: unknown) => Promise<unknown>;
