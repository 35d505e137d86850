// Opens what runs a folder's code migrations on the project's own copy of their tool: sequelize-cli's on its
// Sequelize, knex's on its knex, node-pg-migrate's on its node-pg-migrate. SQL files and umzug-style modules run on
// the migrating connection itself and need none.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Queryable } from '../database/connection.js';
import type { MigrationFile, MigrationKind, ScriptMigration } from './migration.js';
import { openKnexRunner } from './formats/knex-runner.js';
import { openNodePgMigrateRunner } from './formats/node-pg-migrate.js';
import { openSequelizeRunner } from './sequelize-runner.js';

/** Runs one migration's step together with its history row, on the tool's own library; `close` ends its connections. */
export interface ScriptRunner {
  run(file: ScriptMigration, direction: 'up' | 'down'): Promise<void>;
  close(): Promise<void>;
}

export interface ScriptRunnerOptions {
  readonly client: Queryable;
  readonly files: readonly MigrationFile[];
  readonly projectDir: string;
  readonly migrationsDir: string;
  /** The supervisor's connection options, for the tools that open connections of their own (Sequelize, knex). */
  readonly connection: () => pg.ClientConfig;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
  /** A stop: knex's runner cancels the statement on its own connection (the migrating one is cancelled by the caller). */
  readonly signal?: AbortSignal;
}

/** The runner for a folder of `kind`; undefined when its migrations run on the migrating connection. */
export async function openScriptRunner(kind: MigrationKind, options: ScriptRunnerOptions): Promise<ScriptRunner | undefined> {
  const { projectDir, migrationsDir, logger, lockTimeoutMs, statementTimeoutMs } = options;
  if (kind === 'sequelize') {
    return openSequelizeRunner({ projectDir, migrationsDir, connection: options.connection(), logger, lockTimeoutMs, statementTimeoutMs });
  }
  if (kind === 'knex') {
    const first = options.files[0];
    const history = first && 'history' in first ? first.history : undefined;
    return openKnexRunner({ projectDir, migrationsDir, connection: options.connection(), history, logger, lockTimeoutMs, statementTimeoutMs, signal: options.signal });
  }
  if (kind === 'node-pg-migrate') {
    return openNodePgMigrateRunner({ projectDir, migrationsDir, client: options.client, files: options.files, logger, lockTimeoutMs, statementTimeoutMs });
  }
  return undefined;
}
