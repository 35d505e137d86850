// Which tool keeps the history of a folder of each kind; undefined for the supervisor's own `schema_migrations`
// and for sequelize-cli's `SequelizeMeta` (see history.ts).
import type { MigrationKind } from '../migration.js';
import { drizzleHistory } from './drizzle.js';
import { knexHistory } from './knex.js';
import { nodePgMigrateHistory } from './node-pg-migrate.js';
import { prismaHistory } from './prisma.js';
import type { ToolHistory } from './tool-history.js';

const HISTORIES: Partial<Record<MigrationKind, ToolHistory>> = {
  prisma: prismaHistory,
  drizzle: drizzleHistory,
  knex: knexHistory,
  'node-pg-migrate': nodePgMigrateHistory,
};

/** The tool history of a folder of `kind`, when another tool keeps it. */
export function toolHistoryOf(kind: MigrationKind): ToolHistory | undefined {
  return HISTORIES[kind];
}
