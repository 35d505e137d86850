// The migrate CLI's database commands. Each returns what to print; those that change the history run
// under the migration lock, exactly like the supervisor's start.
import { lintMigrations } from '../lint/lint-migrations.js';
import { formatLintReport } from '../lint/report.js';
import { lintSubjectsOf } from '../lint/subjects.js';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { MigrateConfig } from '../core/config.js';
import { ErrorCodes, ExitCodes, SupervisorError } from '../core/errors.js';
import type { MigrationFile } from '../migrations/migration.js';
import type { OwnConnection, Queryable } from '../database/connection.js';
import { historyLabelOf, readHistory } from '../migrations/history.js';
import { refuseForeignHistory } from '../migrations/formats/foreign-history.js';
import { formatStatus, formatVerify, readStatus, verifyDatabase } from './report.js';
import type { CommandName, CommandOptions } from './usage.js';
import {
  type MigrationLockOptions,
  adoptAndApply,
  baselineTo,
  inspectMigrations,
  kindOf,
  revertMigrations,
  withMigrationLock,
} from '../migrations/runner.js';
import type { MigrationRunOptions } from '../migrations/run-step.js';
import { SEQUELIZE_MAP_FILE, type SequelizeMap, adoptSequelizeHistory } from '../migrations/sequelize-adoption.js';

export interface CommandContext {
  readonly config: MigrateConfig;
  readonly client: Queryable;
  /** A second connection, to hold the migration lock while `client` migrates. */
  readonly openLockConnection: () => Promise<OwnConnection>;
  /** Rejects when `client` is not a session of its own (see MigrationLockOptions.checkSession). */
  readonly checkSession: (() => Promise<void>) | undefined;
  readonly files: readonly MigrationFile[];
  readonly sequelizeMap: SequelizeMap | undefined;
  readonly logger: Logger;
  /** How sequelize-cli migrations connect: the options of `client`'s connection. */
  readonly connection: pg.ClientConfig;
  /** Who and where, for the reports: `user@host/database`, never the password. */
  readonly target: string;
}

export interface CommandResult {
  readonly exitCode: number;
  /** Printed on stdout. */
  readonly text: string;
  /** Printed instead of `text` with `--json`. */
  readonly json?: unknown;
}

// `runs` are the migrations the command may run: one outside a transaction needs the lock in its session.
function runOptions(
  { config, logger, openLockConnection, checkSession, files, connection }: CommandContext,
  runs: readonly MigrationFile[] = [],
): MigrationRunOptions & MigrationLockOptions {
  return {
    openLockConnection,
    needsSession: runs.some((file) => file.kind === 'sql' && !file.transactional),
    kind: kindOf(files),
    files,
    connection,
    checkSession,
    logger,
    lockWaitTimeoutMs: config.migrationLockWaitTimeoutMs,
    lockTimeoutMs: config.migrationLockTimeoutMs,
    statementTimeoutMs: config.migrationStatementTimeoutMs,
  };
}

function listed(label: string, names: readonly string[]): string[] {
  return names.length > 0 ? [`${label}: ${names.join(', ')}`] : [];
}

/** Lints `files` (see supervisor/lint); exit 1 when a risk nobody accepted is found. `what` names them for the summary. */
export async function lintResult(files: readonly MigrationFile[], what: string): Promise<CommandResult> {
  const report = await lintMigrations(await lintSubjectsOf(files));
  const risky =
    report.risky > 0
      ? `\n${ErrorCodes.MIGRATION_RISKY}: do it the safe way above, or accept a reviewed risk with a \`-- lint:accept <rule>\` comment above the statement.`
      : '';
  return { exitCode: report.risky > 0 ? ExitCodes.FAILURE : ExitCodes.OK, text: `${formatLintReport(report, what)}${risky}`, json: report };
}

/** The migrations `lint NAME` or `lint --all` reads, which need no database. */
export function selectForLint(files: readonly MigrationFile[], name: string | undefined): MigrationFile[] {
  if (name === undefined) return [...files];
  const file = files.find((candidate) => candidate.name === name || candidate.fileName === name);
  if (!file) {
    throw new SupervisorError(ErrorCodes.MIGRATION_NOT_FOUND, `There is no migration named ${name}`, {
      hint: 'Give its name as `migrate status` lists it, or its file name.',
    });
  }
  return [file];
}

const COMMANDS: Record<Exclude<CommandName, 'create'>, (context: CommandContext, options: CommandOptions) => Promise<CommandResult>> = {
  async lint({ client, files }) {
    const { pending } = inspectMigrations(files, await readHistory(client, 'name', kindOf(files), files));
    return lintResult(pending, `${pending.length} pending migration${pending.length === 1 ? '' : 's'}`);
  },

  async status(context) {
    const report = await readStatus(context.client, context.files, context.sequelizeMap);
    return {
      exitCode: ExitCodes.OK,
      text: formatStatus(report, `${context.target}, migrations in ${context.config.migrationsDir}`),
      json: report,
    };
  },

  async verify({ client, files, config }) {
    const report = await verifyDatabase(client, files, config.requiredTables);
    return {
      exitCode: report.ok ? ExitCodes.OK : ExitCodes.PROBLEMS,
      text: formatVerify(report, config.requiredTables.length),
      json: report,
    };
  },

  async up(context, { to }) {
    const { client, files, sequelizeMap } = context;
    const kind = kindOf(files);
    const options = runOptions(context, inspectMigrations(files, await readHistory(client, 'name', kind, files)).pending);
    const { adopted, applied, pending } = await withMigrationLock(client, options, async () => ({
      ...(await adoptAndApply(client, files, { ...options, sequelizeMap, to })),
      pending: inspectMigrations(files, await readHistory(client, 'name', kind, files)).pending.map((file) => file.name),
    }));
    const done = [...listed('Adopted from SequelizeMeta (not run)', adopted), ...listed('Applied', applied)];
    return {
      exitCode: ExitCodes.OK,
      text: [...(done.length > 0 ? done : ['Nothing to apply.']), ...listed('Still pending', pending)].join('\n'),
    };
  },

  async down(context, { to, step }) {
    const options = runOptions(context, context.files);
    const reverted = await withMigrationLock(context.client, options, () =>
      revertMigrations(context.client, context.files, to !== undefined ? { to } : { step: step ?? 1 }, options),
    );
    return { exitCode: ExitCodes.OK, text: reverted.length > 0 ? `Reverted: ${reverted.join(', ')}` : 'Nothing to revert.' };
  },

  async baseline(context, { to }) {
    const recorded = await withMigrationLock(context.client, runOptions(context), () =>
      baselineTo(context.client, context.files, to ?? '', context.logger),
    );
    return {
      exitCode: ExitCodes.OK,
      text: recorded.length > 0 ? `Recorded as applied without running them: ${recorded.join(', ')}` : `Nothing to record: ${to} and the migrations before it are applied.`,
    };
  },

  async 'adopt-sequelize'(context) {
    const { client, files, sequelizeMap, logger, config } = context;
    if (kindOf(files) !== 'sql') {
      throw new SupervisorError(ErrorCodes.ADOPTION_INVALID, `The migrations in ${config.migrationsDir} are not SQL files: there is nothing to adopt`, {
        hint: "adopt-sequelize moves a project to SQL migrations. sequelize-cli migrations run as they are, with SequelizeMeta as their history.",
      });
    }
    if (!sequelizeMap) {
      throw new SupervisorError(ErrorCodes.ADOPTION_INVALID, `There is no ${SEQUELIZE_MAP_FILE} in ${config.migrationsDir}`, {
        hint: "Write it first: each of our migrations' name with the sequelize-cli file names it replaces (see health-gate's docs/migrate-cli.md, \"Switching from another tool\").",
      });
    }
    const result = await withMigrationLock(client, runOptions(context), () => adoptSequelizeHistory(client, files, sequelizeMap, logger));
    if (!result.found) return { exitCode: ExitCodes.OK, text: 'No SequelizeMeta table: nothing to adopt.' };
    const adopted = result.adopt.map((file) => file.name);
    return {
      exitCode: ExitCodes.OK,
      text: [
        ...(adopted.length > 0 ? listed('Adopted from SequelizeMeta (recorded as applied, not run)', adopted) : ['Nothing new to adopt.']),
        ...listed('Not mapped (left as they are)', result.unmapped),
      ].join('\n'),
    };
  },
};

// The commands that read or apply the history as it is; `baseline`, `adopt-sequelize` and `down` are how to act on it.
const REFUSE_FOREIGN_HISTORY: ReadonlySet<string> = new Set(['verify', 'up', 'lint']);

// SUP_ERR_FOREIGN_HISTORY when another tool's history holds rows while the one in use is empty (see foreign-history.ts).
async function checkForeignHistory(context: CommandContext): Promise<void> {
  const kind = kindOf(context.files);
  await refuseForeignHistory(context.client, {
    dir: context.config.migrationsDir,
    kind,
    historyLabel: historyLabelOf(kind),
    appliedCount: (await readHistory(context.client, 'name', kind, context.files)).length,
    adopted: context.sequelizeMap ? ['SequelizeMeta'] : [],
  });
}

/** Runs one command that needs the database; `status` reports another tool's history where the others stop on it. */
export async function runDatabaseCommand(command: Exclude<CommandName, 'create'>, context: CommandContext, options: CommandOptions): Promise<CommandResult> {
  if (REFUSE_FOREIGN_HISTORY.has(command)) await checkForeignHistory(context);
  const result = await COMMANDS[command](context, options);
  if (command !== 'status') return result;
  const foreign = await checkForeignHistory(context).then(
    () => undefined,
    (error: unknown) => error as SupervisorError,
  );
  return foreign ? { ...result, text: `${result.text}\n${foreign.code}: ${foreign.message}\n${foreign.hint ?? ''}`.trimEnd() } : result;
}
