// What `migrate status` and `migrate verify` find, read without a lock and without changing anything,
// and how they print it.
import { ErrorCodes } from '../core/errors.js';
import type { MigrationFile } from '../migrations/files.js';
import type { Queryable } from '../database/connection.js';
import { readHistory } from '../migrations/history.js';
import { inspectMigrations } from '../migrations/runner.js';
import { findMissingTables } from '../database/schema-check.js';
import { type SequelizeMap, planAdoption, readSequelizeMeta } from '../migrations/sequelize-adoption.js';

export interface AppliedEntry {
  readonly name: string;
  readonly appliedAt: string;
  readonly durationMs: number;
  /** `changed`: the file differs from what was applied; `no file`: applied by another release. */
  readonly checksum: 'ok' | 'changed' | 'no file';
}

export interface PendingEntry {
  readonly name: string;
  /** The sequelize-cli migrations in SequelizeMeta that account for it: `up` records it without running it. */
  readonly adoptFrom?: readonly string[];
}

export interface StatusReport {
  readonly applied: readonly AppliedEntry[];
  readonly pending: readonly PendingEntry[];
  /** Null without a SequelizeMeta table; `unmapped` lists its entries that no migration replaces. */
  readonly sequelizeMeta: { readonly mapFile: boolean; readonly unmapped: readonly string[] } | null;
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
  readonly missingTables: readonly string[];
  readonly problems: readonly VerifyProblem[];
}

export async function readStatus(
  client: Queryable,
  files: readonly MigrationFile[],
  sequelizeMap: SequelizeMap | undefined,
): Promise<StatusReport> {
  const history = await readHistory(client);
  const inspection = inspectMigrations(files, history);
  const changed = new Set(inspection.changed.map((file) => file.name));
  const unknown = new Set(inspection.unknown.map((row) => row.name));
  const meta = await readSequelizeMeta(client);
  const adoption = meta && sequelizeMap ? planAdoption(files, history, meta, sequelizeMap) : undefined;
  const adopted = new Set(adoption?.adopt.map((file) => file.name));
  return {
    applied: history.map((row) => ({
      name: row.name,
      appliedAt: row.appliedAt.toISOString(),
      durationMs: row.durationMs,
      checksum: unknown.has(row.name) ? 'no file' : changed.has(row.name) ? 'changed' : 'ok',
    })),
    pending: inspection.pending.map((file) =>
      adopted.has(file.name) ? { name: file.name, adoptFrom: sequelizeMap?.get(file.name) ?? [] } : { name: file.name },
    ),
    sequelizeMeta: meta ? { mapFile: sequelizeMap !== undefined, unmapped: adoption?.unmapped ?? [...meta] } : null,
  };
}

export function formatStatus(report: StatusReport, where: string): string {
  const rows = [
    ['state', 'name', 'applied at', 'duration', 'checksum'],
    ...report.applied.map((row) => ['applied', row.name, row.appliedAt, `${row.durationMs} ms`, row.checksum]),
    ...report.pending.map((row) => [row.adoptFrom ? 'adopt' : 'pending', row.name, '', '', '']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  const adopt = report.pending.filter((row) => row.adoptFrom).length;
  const changed = report.applied.filter((row) => row.checksum === 'changed').length;
  const notes = [
    `${report.applied.length} applied, ${report.pending.length} pending${adopt > 0 ? ` (${adopt} to adopt from SequelizeMeta)` : ''}` +
      `${changed > 0 ? `, ${changed} changed on disk` : ''}`,
  ];
  if (adopt > 0) {
    notes.push('adopt: pending, but SequelizeMeta accounts for it; `up` records it as applied without running it.');
  }
  if (report.sequelizeMeta && !report.sequelizeMeta.mapFile) {
    notes.push('SequelizeMeta found, but no sequelize-map.json in the migrations folder: its history is not adopted.');
  } else if (report.sequelizeMeta && report.sequelizeMeta.unmapped.length > 0) {
    notes.push(`SequelizeMeta entries no migration replaces: ${report.sequelizeMeta.unmapped.join(', ')}`);
  }
  return [where, '', ...table, '', ...notes].join('\n');
}

/** Nothing pending, no applied file changed, every required table present: what `verify` checks. */
export async function verifyDatabase(
  client: Queryable,
  files: readonly MigrationFile[],
  requiredTables: readonly string[],
): Promise<VerifyReport> {
  const inspection = inspectMigrations(files, await readHistory(client));
  const pending = inspection.pending.map((file) => file.name);
  const changed = inspection.changed.map((file) => file.name);
  const missingTables = await findMissingTables(client, requiredTables);
  const problems: VerifyProblem[] = [];
  if (pending.length > 0) {
    problems.push({ code: ErrorCodes.SCHEMA_INVALID, message: `pending migrations: ${pending.join(', ')}` });
  }
  if (changed.length > 0) {
    problems.push({ code: ErrorCodes.CHECKSUM_MISMATCH, message: `applied migrations changed on disk: ${changed.join(', ')}` });
  }
  if (missingTables.length > 0) {
    problems.push({ code: ErrorCodes.SCHEMA_INVALID, message: `missing required tables: ${missingTables.join(', ')}` });
  }
  return { ok: problems.length === 0, applied: inspection.applied.length, pending, changed, missingTables, problems };
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
