// The lint of the pending migrations at start: each finding logged as a warning (accepted ones as info); with
// MIGRATION_LINT=error, a finding nobody accepted stops the start before anything runs.
import type { Logger } from 'pino';
import type { MigrationLintMode } from '../core/config.js';
import { ErrorCodes, SupervisorError, isSupervisorError } from '../core/errors.js';
import type { MigrationFile } from '../migrations/migration.js';
import { lintMigrations } from './lint-migrations.js';
import { lintSubjectsOf } from './subjects.js';

/** Lints `pending` as `mode` says; rejects with SUP_ERR_MIGRATION_RISKY (or SUP_ERR_LINT_UNAVAILABLE) only in `error` mode. */
export async function lintPendingMigrations(pending: readonly MigrationFile[], mode: MigrationLintMode, logger: Logger): Promise<void> {
  if (mode === 'off' || pending.length === 0) return;
  let report;
  try {
    report = await lintMigrations(await lintSubjectsOf(pending));
  } catch (error) {
    if (mode === 'error' || !isSupervisorError(error) || error.code !== ErrorCodes.LINT_UNAVAILABLE) throw error;
    logger.warn({ event: 'migration_lint_unavailable', err: error }, `pending migrations not linted: ${error.message}`);
    return;
  }
  const risks: string[] = [];
  for (const file of report.files) {
    for (const finding of file.findings) {
      const fields = { event: 'migration_lint', migration: file.name, line: finding.line, rule: finding.rule, why: finding.why, safely: finding.safely };
      if (finding.accepted) {
        logger.info({ ...fields, accepted: finding.accepted }, `accepted risk in ${file.fileName}:${finding.line}: ${finding.rule}`);
      } else {
        risks.push(`${file.fileName}:${finding.line} ${finding.rule}`);
        logger.warn(fields, `risky migration ${file.fileName}:${finding.line}: ${finding.rule}: ${finding.why}`);
      }
    }
  }
  if (mode === 'error' && risks.length > 0) {
    throw new SupervisorError(ErrorCodes.MIGRATION_RISKY, `Pending migrations would block a busy table or break the running release: ${risks.join(', ')}`, {
      hint: 'Do it the safe way each `migration_lint` entry names, or accept a reviewed risk with a `-- lint:accept <rule>` comment (MIGRATION_LINT=warn only logs).',
    });
  }
}
