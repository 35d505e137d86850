// Adopts the history sequelize-cli kept in `SequelizeMeta`, through `sequelize-map.json` in the migrations
// folder, so that a database migrated by sequelize-cli is not migrated a second time.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { MigrationFile } from './migration.js';
import type { Queryable } from '../database/connection.js';
import { readHistory, readSequelizeHistory, recordWithoutRunning } from './history.js';
import { type AppliedMigration } from './migration.js';

/** The map's file name inside MIGRATIONS_DIR. */
export const SEQUELIZE_MAP_FILE = 'sequelize-map.json';

/** Our migration's name → the sequelize-cli file names (`20240101120000-create-messages.js`) it replaces. */
export type SequelizeMap = ReadonlyMap<string, readonly string[]>;

export interface AdoptionPlan {
  /** Pending migrations whose sequelize-cli counterparts are all recorded in SequelizeMeta, in file order. */
  readonly adopt: readonly MigrationFile[];
  /** SequelizeMeta entries that no migration replaces: what they changed is not ours to know. */
  readonly unmapped: readonly string[];
}

export interface AdoptionResult extends AdoptionPlan {
  /** False when the database has no SequelizeMeta table: nothing to adopt. */
  readonly found: boolean;
}

function invalid(message: string, hint = `Fix ${SEQUELIZE_MAP_FILE}; health-gate's docs/migrate-cli.md describes it ("Switching from another tool").`): SupervisorError {
  return new SupervisorError(ErrorCodes.ADOPTION_INVALID, message, { hint });
}

/** Reads `sequelize-map.json` from the migrations folder; undefined when there is none. */
export async function readSequelizeMap(dir: string): Promise<SequelizeMap | undefined> {
  const file = path.join(dir, SEQUELIZE_MAP_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw invalid(`Cannot use ${file}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid(`${file} must hold one JSON object: {"0001_name": ["20240101120000-name.js"], …}`);
  }
  const map = new Map<string, readonly string[]>();
  const claimedBy = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (!Array.isArray(value) || value.length === 0 || !value.every((entry) => typeof entry === 'string' && entry !== '')) {
      problems.push(`"${name}" must be a non-empty list of sequelize-cli file names`);
      continue;
    }
    for (const entry of value as string[]) {
      const other = claimedBy.get(entry);
      if (other) problems.push(`${entry} is listed under both ${other} and ${name}`);
      claimedBy.set(entry, name);
    }
    map.set(name, value as string[]);
  }
  if (problems.length > 0) throw invalid(`${file}: ${problems.join('; ')}`);
  return map;
}

/** The names recorded in `SequelizeMeta` (found on the search_path); undefined when there is no such table. */
export async function readSequelizeMeta(client: Queryable): Promise<ReadonlySet<string> | undefined> {
  const { rows } = await client.query<{ present: boolean }>(`SELECT to_regclass('"SequelizeMeta"') IS NOT NULL AS present`);
  if (!rows[0]?.present) return undefined;
  return new Set((await readSequelizeHistory(client)).map((row) => row.name));
}

/**
 * Decides which pending migrations SequelizeMeta already accounts for. A migration is adopted when every
 * sequelize-cli file it replaces is recorded; a partly recorded one, or one that follows a migration still
 * to run, is refused: adopting it would leave the schema in a state no migration describes.
 */
export function planAdoption(
  files: readonly MigrationFile[],
  history: readonly AppliedMigration[],
  meta: ReadonlySet<string>,
  map: SequelizeMap,
): AdoptionPlan {
  const fileNames = new Set(files.map((file) => file.name));
  const strays = [...map.keys()].filter((name) => !fileNames.has(name));
  if (strays.length > 0) throw invalid(`${SEQUELIZE_MAP_FILE} names migrations that have no file: ${strays.join(', ')}`);

  const applied = new Set(history.map((row) => row.name));
  const adopt: MigrationFile[] = [];
  let firstToRun: MigrationFile | undefined;
  for (const file of files) {
    if (applied.has(file.name)) continue;
    const replaces = map.get(file.name) ?? [];
    const recorded = replaces.filter((name) => meta.has(name));
    if (recorded.length === 0) {
      firstToRun ??= file;
      continue;
    }
    if (recorded.length < replaces.length) {
      const missing = replaces.filter((name) => !meta.has(name));
      throw invalid(
        `SequelizeMeta records ${recorded.join(', ')} but not ${missing.join(', ')}, which ${file.name} also replaces`,
        `Finish or undo those sequelize-cli migrations first, or split ${file.name} in the map to match.`,
      );
    }
    if (firstToRun) {
      throw invalid(
        `SequelizeMeta accounts for ${file.name}, but not for ${firstToRun.name}, which comes before it`,
        'Each adopted migration must follow only applied or adopted ones: check the map against the SequelizeMeta table.',
      );
    }
    adopt.push(file);
  }
  const mapped = new Set([...map.values()].flat());
  return { adopt, unmapped: [...meta].filter((name) => !mapped.has(name)).sort() };
}

/**
 * Records the migrations SequelizeMeta accounts for as applied (with their checksums, without running
 * them), all in one transaction. The caller holds the migration lock; running it again adopts nothing new.
 */
export async function adoptSequelizeHistory(
  client: Queryable,
  files: readonly MigrationFile[],
  map: SequelizeMap | undefined,
  logger: Logger,
): Promise<AdoptionResult> {
  const meta = await readSequelizeMeta(client);
  if (!meta) return { found: false, adopt: [], unmapped: [] };
  if (!map) {
    logger.warn(
      { event: 'sequelize_history_ignored' },
      `found a SequelizeMeta table but no ${SEQUELIZE_MAP_FILE} in the migrations folder: its history is not adopted`,
    );
    return { found: true, adopt: [], unmapped: [...meta].sort() };
  }
  const plan = planAdoption(files, await readHistory(client), meta, map);
  if (plan.unmapped.length > 0) {
    logger.warn(
      { event: 'sequelize_unmapped', entries: plan.unmapped },
      `SequelizeMeta entries that no migration replaces (left as they are): ${plan.unmapped.join(', ')}`,
    );
  }
  await recordWithoutRunning(client, plan.adopt);
  const names = plan.adopt.map((file) => file.name);
  if (names.length > 0) {
    logger.info(
      { event: 'sequelize_adopted', migrations: names },
      `adopted from SequelizeMeta (recorded as applied, not run): ${names.join(', ')}`,
    );
  }
  return { found: true, ...plan };
}
