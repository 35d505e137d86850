// Runs knex migrations as they are, with the project's own `knex` (never bundled): each one's `up(knex)` gets a knex
// transaction, in which its `knex_migrations` row is written too, so it applies completely or not at all. A migration
// that opts out (`exports.config = { transaction: false }`) runs on the knex instance itself, as knex runs it, and the
// log names it.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { HistoryLocation, ScriptMigration } from '../migration.js';
import { loadScript } from '../script-loader.js';
import { cancelRunningStatement } from '../../database/cancel.js';
import { knexTables } from './knex.js';
import { type ToolRunner, importProjectModule } from './project-module.js';

export interface KnexRunOptions {
  readonly projectDir: string;
  readonly migrationsDir: string;
  /** The supervisor's own connection options: the knexfile's connection is not used. */
  readonly connection: pg.ClientConfig;
  readonly history: HistoryLocation | undefined;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** A stop: the statement running on knex's connection is cancelled, so that its transaction rolls back at once. */
  readonly signal?: AbortSignal;
}

// The few members of knex that are used here.
interface KnexInstance {
  raw(sql: string, bindings?: unknown[]): Promise<{ rows: { batch: number }[] }>;
  transaction<T>(fn: (trx: KnexInstance) => Promise<T>): Promise<T>;
  destroy(): Promise<void>;
}
type KnexFactory = (config: Record<string, unknown>) => KnexInstance;

/** Opens knex with one connection (at the first migration); the batch is the same for every migration of the run. */
export async function openKnexRunner(options: KnexRunOptions): Promise<ToolRunner> {
  const module = await importProjectModule('knex', options.projectDir, options.migrationsDir, 'knex');
  const factory = (typeof module.default === 'function' ? module.default : module.knex) as KnexFactory;
  let connection: pg.ClientBase | undefined;
  const knex = factory({
    client: 'pg',
    connection: { ...options.connection, application_name: 'supervisor-knex' },
    pool: {
      min: 0,
      max: 1,
      afterCreate: (created: pg.ClientBase, done: (error: Error | null, created: pg.ClientBase) => void) => {
        connection = created;
        done(null, created);
      },
    },
  });
  const cancel = (): void => {
    if (connection && options.connection.connectionString) {
      void cancelRunningStatement(connection, options.connection.connectionString, options.connection.connectionTimeoutMillis ?? 5_000);
    }
  };
  options.signal?.addEventListener('abort', cancel, { once: true });
  const { table } = knexTables(options.history);
  let batch: number | undefined;
  const record = async (db: KnexInstance, name: string, direction: 'up' | 'down'): Promise<void> => {
    if (direction === 'down') {
      await db.raw(`DELETE FROM ${table} WHERE name = ?`, [name]);
      return;
    }
    batch ??= Number((await db.raw(`SELECT COALESCE(MAX(batch), 0) + 1 AS batch FROM ${table}`)).rows[0]?.batch ?? 1);
    await db.raw(`INSERT INTO ${table} (name, batch, migration_time) VALUES (?, ?, now())`, [name, batch]);
  };
  return {
    async run(file, direction) {
      const loaded = await loadScript(file as ScriptMigration);
      const step = direction === 'up' ? loaded.up : loaded.down;
      if (!step) throw new Error(`${file.fileName} exports no down function`);
      if (!file.transactional) {
        options.logger.warn(
          { event: 'migration_no_transaction', migration: file.name },
          `${file.name} opts out of knex's transaction (config.transaction = false): if it fails halfway, what it did stays`,
        );
        await step(knex as never);
        await record(knex, file.name, direction);
        return;
      }
      await knex.transaction(async (trx) => {
        await trx.raw("SELECT set_config('lock_timeout', ?, true), set_config('statement_timeout', ?, true)", [
          String(options.lockTimeoutMs),
          String(options.statementTimeoutMs),
        ]);
        await step(trx as never);
        await record(trx, file.name, direction);
      });
    },
    async close() {
      options.signal?.removeEventListener('abort', cancel);
      await knex.destroy().catch(() => {});
    },
  };
}
