// Risks a reviewer accepted, written in the migration itself:
//   -- lint:accept <rule>[, <rule>…] [why]        for the statement right below the comment
//   -- lint:accept-file <rule>[, <rule>…] [why]   for the whole file
// A rule named `all` accepts every rule.

import type { SqlStatement } from '../sql/sql-statements.js';

type StatementLines = Pick<SqlStatement, 'firstLine' | 'lastLine'>;

export interface Acceptance {
  readonly rules: ReadonlySet<string>;
  /** The reviewer's words after the rules, if any. */
  readonly reason: string | undefined;
  /** The line of the comment. */
  readonly line: number;
}

export interface AcceptedRisks {
  /** The acceptance that covers `rule` at `line`, if any. */
  find(rule: string, line: number): Acceptance | undefined;
}

const ACCEPT = /^\s*--\s*lint:accept(-file)?\s+([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*(.*)$/i;

function covers(acceptance: Acceptance, rule: string): boolean {
  return acceptance.rules.has(rule) || acceptance.rules.has('all');
}

/** Reads the accept comments of `sql`, whose statements are `statements`. */
export function readAcceptedRisks(sql: string, statements: readonly StatementLines[]): AcceptedRisks {
  const fileWide: Acceptance[] = [];
  const byStatement = new Map<StatementLines, Acceptance[]>();
  for (const [index, text] of sql.split('\n').entries()) {
    const match = ACCEPT.exec(text);
    if (!match) continue;
    const acceptance: Acceptance = {
      rules: new Set((match[2] ?? '').split(',').map((rule) => rule.trim().toLowerCase())),
      reason: match[3]?.replace(/^[-–—:\s]+/, '').trim() || undefined,
      line: index + 1,
    };
    if (match[1]) {
      fileWide.push(acceptance);
      continue;
    }
    const next = statements.find((statement) => statement.firstLine > acceptance.line);
    if (next) byStatement.set(next, [...(byStatement.get(next) ?? []), acceptance]);
  }
  return {
    find(rule, line) {
      const statement = statements.find((candidate) => candidate.firstLine <= line && line <= candidate.lastLine);
      const local = statement ? byStatement.get(statement)?.find((acceptance) => covers(acceptance, rule)) : undefined;
      return local ?? fileWide.find((acceptance) => covers(acceptance, rule));
    },
  };
}
