// The lint's report as people read it: one block per finding, files that could not be linted, a summary.
import type { LintReport } from './lint-migrations.js';

/** The report as text; `what` says what was linted (e.g. "3 pending migrations"). */
export function formatLintReport(report: LintReport, what: string): string {
  const lines: string[] = [];
  for (const file of report.files) {
    if (!file.linted) {
      lines.push(`${file.fileName}  not linted: ${file.reason}`);
      continue;
    }
    for (const finding of file.findings) {
      const accepted = finding.accepted
        ? `  accepted at line ${finding.accepted.line}${finding.accepted.reason ? `: ${finding.accepted.reason}` : ''}`
        : '';
      lines.push(`${file.fileName}:${finding.line}  ${finding.rule}${accepted}`);
      lines.push(`  why: ${finding.why}`);
      lines.push(`  safely: ${finding.safely}`);
    }
  }
  const linted = report.files.filter((file) => file.linted).length;
  const summary =
    report.risky > 0
      ? `${report.risky} risky statement${report.risky === 1 ? '' : 's'}`
      : 'nothing risky';
  lines.push(`${lines.length > 0 ? '\n' : ''}Linted ${linted} of ${what}: ${summary}${report.accepted > 0 ? `, ${report.accepted} accepted` : ''}.`);
  return lines.join('\n');
}
