// What `migrate status` and `migrate verify` find, read without a lock and without changing anything,
// and how they print it.
import { ErrorCodes, type SupervisorError } from '../core/errors.js';
import type { MigrationFile, MigrationKind } from '../migrations/migration.js';
import type { Queryable } from '../database/connection.js';
import { readHistory } from '../migrations/history.js';
import { toolHistoryOf } from '../migrations/formats/index.js';
import { type MigrationInspection, inspectMigrations, kindOf, migrationsOutOfOrder } from '../migrations/runner.js';
import { findMissingTables } from '../database/schema-check.js';
import { type SequelizeMap, planAdoption, readSequelizeMeta } from '../migrations/sequelize-adoption.js';

export interface AppliedEntry {
  readonly name: string;
  /** Null for sequelize-cli migrations: SequelizeMeta records only names. */
  readonly appliedAt: string | null;
  readonly durationMs: number | null;
  /** `changed`: the file differs from what was applied; `no file`: applied by another release; `not recorded`: SequelizeMeta keeps none. */
  readonly checksum: 'ok' | 'changed' | 'no file' | 'not recorded';
}

export interface PendingEntry {
  readonly name: string;
  /** The sequelize-cli migrations in SequelizeMeta that account for it: `up` records it without running it. */
  readonly adoptFrom?: readonly string[];
  /** It sorts before the last applied migration: `up` and the supervisor refuse it (SUP_ERR_MIGRATION_OUT_OF_ORDER). */
  readonly outOfOrder?: true;
}

export interface StatusReport {
  readonly applied: readonly AppliedEntry[];
  readonly pending: readonly PendingEntry[];
  /** When a pending migration is out of order: the error `up` would stop with. */
  readonly outOfOrder?: VerifyProblem & { readonly hint: string | undefined };
  /** Null without a SequelizeMeta table; `unmapped` lists its entries that no migration replaces. */
  readonly sequelizeMeta: { readonly mapFile: boolean; readonly unmapped: readonly string[] } | null;
  /** The kind of the folder's migrations, which says where the history is (`SequelizeMeta` for `sequelize`). */
  readonly kind: MigrationKind;
}

export interface VerifyProblem {
  readonly code: string;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly applied: number;
  readonly pending: readonly string[];
  readonly changed: readonly string[];
  /** Pending migrations that sort before the last applied one. */
  readonly outOfOrder: readonly string[];
  readonly missingTables: readonly string[];
  readonly problems: readonly VerifyProblem[];
}

export async function readStatus(
  client: Queryable,
  files: readonly MigrationFile[],
  sequelizeMap: SequelizeMap | undefined,
): Promise<StatusReport> {
  const kind = kindOf(files);
  const history = await readHistory(client, 'name', kind, files);
  const inspection = inspectMigrations(files, history);
  const changed = new Set(inspection.changed.map((file) => file.name));
  const unknown = new Set(inspection.unknown.map((row) => row.name));
  // For a folder of sequelize-cli migrations, SequelizeMeta is the history itself, not one to adopt.
  const meta = kind === 'sql' ? await readSequelizeMeta(client) : undefined;
  const adoption = meta && sequelizeMap ? planAdoption(files, history, meta, sequelizeMap) : undefined;
  const adopted = new Set(adoption?.adopt.map((file) => file.name));
  const outOfOrder = new Set(inspection.outOfOrder.map((file) => file.name));
  const refusal = outOfOrderProblem(inspection);
  return {
    applied: history.map((row) => ({
      name: row.name,
      appliedAt: row.appliedAt?.toISOString() ?? null,
      durationMs: row.durationMs ?? null,
      checksum: unknown.has(row.name) ? 'no file' : changed.has(row.name) ? 'changed' : row.checksum === undefined ? 'not recorded' : 'ok',
    })),
    pending: inspection.pending.map((file) => ({
      name: file.name,
      ...(adopted.has(file.name) ? { adoptFrom: sequelizeMap?.get(file.name) ?? [] } : {}),
      ...(outOfOrder.has(file.name) ? { outOfOrder: true as const } : {}),
    })),
    ...(refusal ? { outOfOrder: { code: refusal.code, message: refusal.message, hint: refusal.hint } } : {}),
    sequelizeMeta: meta ? { mapFile: sequelizeMap !== undefined, unmapped: adoption?.unmapped ?? [...meta] } : null,
    kind,
  };
}

function outOfOrderProblem({ outOfOrder, lastApplied }: MigrationInspection): SupervisorError | undefined {
  return lastApplied !== undefined && outOfOrder.length > 0 ? migrationsOutOfOrder(outOfOrder, lastApplied) : undefined;
}

export function formatStatus(report: StatusReport, where: string): string {
  const rows = [
    ['state', 'name', 'applied at', 'duration', 'checksum'],
    ...report.applied.map((row) => [
      'applied',
      row.name,
      row.appliedAt ?? '',
      row.durationMs === null ? '' : `${row.durationMs} ms`,
      row.checksum === 'not recorded' ? '' : row.checksum,
    ]),
    ...report.pending.map((row) => [row.outOfOrder ? 'out-of-order' : row.adoptFrom ? 'adopt' : 'pending', row.name, '', '', '']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  const adopt = report.pending.filter((row) => row.adoptFrom).length;
  const changed = report.applied.filter((row) => row.checksum === 'changed').length;
  const outOfOrder = report.pending.filter((row) => row.outOfOrder).length;
  const pendingDetails = [
    ...(adopt > 0 ? [`${adopt} to adopt from SequelizeMeta`] : []),
    ...(outOfOrder > 0 ? [`${outOfOrder} out of order`] : []),
  ];
  const tool = toolHistoryOf(report.kind);
  const history =
    report.kind === 'sequelize'
      ? 'history in SequelizeMeta (sequelize-cli migrations)'
      : tool
        ? `history in ${tool.label} (${tool.tool} migrations)`
        : undefined;
  const notes = [
    `${report.applied.length} applied, ${report.pending.length} pending${pendingDetails.length > 0 ? ` (${pendingDetails.join(', ')})` : ''}` +
      `${changed > 0 ? `, ${changed} changed on disk` : ''}`,
  ];
  if (adopt > 0) {
    notes.push('adopt: pending, but SequelizeMeta accounts for it; `up` records it as applied without running it.');
  }
  if (report.outOfOrder) {
    notes.push(`${report.outOfOrder.code}: ${report.outOfOrder.message}`, ...(report.outOfOrder.hint ? [report.outOfOrder.hint] : []));
  }
  if (report.sequelizeMeta && !report.sequelizeMeta.mapFile) {
    notes.push('SequelizeMeta found, but no sequelize-map.json in the migrations folder: its history is not adopted.');
  } else if (report.sequelizeMeta && report.sequelizeMeta.unmapped.length > 0) {
    notes.push(`SequelizeMeta entries no migration replaces: ${report.sequelizeMeta.unmapped.join(', ')}`);
  }
  return [history ? `${where}; ${history}` : where, '', ...table, '', ...notes].join('\n');
}

/** Nothing pending (nor out of order), no applied file changed, every required table present: what `verify` checks. */
export async function verifyDatabase(
  client: Queryable,
  files: readonly MigrationFile[],
  requiredTables: readonly string[],
): Promise<VerifyReport> {
  const inspection = inspectMigrations(files, await readHistory(client, 'name', kindOf(files), files));
  const pending = inspection.pending.map((file) => file.name);
  const changed = inspection.changed.map((file) => file.name);
  const outOfOrder = inspection.outOfOrder.map((file) => file.name);
  const missingTables = await findMissingTables(client, requiredTables);
  const problems: VerifyProblem[] = [];
  if (pending.length > 0) {
    problems.push({ code: ErrorCodes.SCHEMA_INVALID, message: `pending migrations: ${pending.join(', ')}` });
  }
  if (changed.length > 0) {
    problems.push({ code: ErrorCodes.CHECKSUM_MISMATCH, message: `applied migrations changed on disk: ${changed.join(', ')}` });
  }
  const refusal = outOfOrderProblem(inspection);
  if (refusal) problems.push({ code: refusal.code, message: refusal.message });
  if (missingTables.length > 0) {
    problems.push({ code: ErrorCodes.SCHEMA_INVALID, message: `missing required tables: ${missingTables.join(', ')}` });
  }
  return { ok: problems.length === 0, applied: inspection.applied.length, pending, changed, outOfOrder, missingTables, problems };
}

export function formatVerify(report: VerifyReport, requiredTables: number): string {
  if (report.ok) {
    return `ok: ${report.applied} applied, nothing pending, no checksum differs, ${requiredTables} required tables present`;
  }
  return [
    ...report.problems.map((problem) => `${problem.code}: ${problem.message}`),
    `verify found ${report.problems.length} problem${report.problems.length > 1 ? 's' : ''}`,
  ].join('\n');
}
