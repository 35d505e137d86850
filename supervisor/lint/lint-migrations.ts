// Lints migrations before they reach production: squawk on each SQL migration's up section, with the rules
// tuned to what the supervisor already guarantees, accepted risks marked, and what cannot be linted said.
import { ADVICE, RULES_NOT_APPLIED } from './advice.js';
import { type Acceptance, readAcceptedRisks } from './accepted-risks.js';
import { runSquawk, type SquawkInput } from './squawk.js';
import { parseStatements } from '../sql/sql-statements.js';

/** A migration to lint, as it is on disk. */
export interface LintSubject {
  readonly name: string;
  /** The file's name, as the report shows it. */
  readonly fileName: string;
  readonly content: string;
  /** False for `-- migrate:no-transaction` files. */
  readonly transactional: boolean;
  /** Set for migrations whose SQL is not known before they run (JS/TS modules, sequelize-cli): why. */
  readonly notLintable?: string;
}

export interface LintFinding {
  readonly line: number;
  readonly rule: string;
  readonly why: string;
  readonly safely: string;
  /** Set when a `-- lint:accept` comment covers it. */
  readonly accepted?: { readonly line: number; readonly reason: string | undefined };
}

export interface LintedFile {
  readonly name: string;
  readonly fileName: string;
  readonly linted: boolean;
  /** Why it was not linted. */
  readonly reason?: string;
  readonly findings: readonly LintFinding[];
}

export interface LintReport {
  readonly files: readonly LintedFile[];
  /** Findings not accepted: the lint fails when there is any. */
  readonly risky: number;
  readonly accepted: number;
}

const MARKER = /^\s*--\s*migrate:(up|down)\b/;

// The up section only, line numbers kept: the down section and the markers become blank lines.
function upSection(content: string): string {
  let inDown = false;
  return content
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const marker = MARKER.exec(line);
      if (marker) {
        inDown = marker[1] === 'down';
        return '';
      }
      return inDown ? '' : line;
    })
    .join('\n');
}

function toFinding(rule: string, line: number, message: string, help: string | undefined, acceptance: Acceptance | undefined): LintFinding {
  const advice = ADVICE[rule];
  return {
    line,
    rule,
    why: advice?.why ?? message,
    safely: advice?.safely ?? help ?? 'see the rule at https://squawkhq.com/docs/rules',
    ...(acceptance ? { accepted: { line: acceptance.line, reason: acceptance.reason } } : {}),
  };
}

/** Lints `subjects` in order. Rejects with SUP_ERR_LINT_UNAVAILABLE when squawk is not installed. */
export async function lintMigrations(subjects: readonly LintSubject[]): Promise<LintReport> {
  const lintable = subjects.filter((subject) => !subject.notLintable);
  const sql = new Map(lintable.map((subject) => [subject.fileName, upSection(subject.content)]));
  const inputs = (transactional: boolean): SquawkInput[] =>
    lintable.filter((subject) => subject.transactional === transactional).map((subject) => ({ name: subject.fileName, sql: sql.get(subject.fileName) ?? '' }));
  const found = (await Promise.all([runSquawk(inputs(true), true), runSquawk(inputs(false), false)])).flat();

  const files: LintedFile[] = [];
  for (const subject of subjects) {
    if (subject.notLintable) {
      files.push({ name: subject.name, fileName: subject.fileName, linted: false, reason: subject.notLintable, findings: [] });
      continue;
    }
    const text = sql.get(subject.fileName) ?? '';
    const own = found.filter((finding) => finding.file === subject.fileName);
    const syntaxError = own.find((finding) => finding.rule === 'syntax-error');
    if (syntaxError) {
      const reason = `squawk could not parse line ${syntaxError.line}: ${syntaxError.message}`;
      files.push({ name: subject.name, fileName: subject.fileName, linted: false, reason, findings: [] });
      continue;
    }
    const accepted = readAcceptedRisks(text, (await parseStatements(text)) ?? []);
    const findings = own
      .filter((finding) => !RULES_NOT_APPLIED.has(finding.rule))
      .map((finding) => toFinding(finding.rule, finding.line, finding.message, finding.help, accepted.find(finding.rule, finding.line)))
      .sort((a, b) => a.line - b.line);
    files.push({ name: subject.name, fileName: subject.fileName, linted: true, findings });
  }
  const all = files.flatMap((file) => file.findings);
  const acceptedCount = all.filter((finding) => finding.accepted).length;
  return { files, risky: all.length - acceptedCount, accepted: acceptedCount };
}
