// Finds the statements in a migration's SQL that begin or end a transaction (BEGIN, START TRANSACTION,
// COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED): inside the transaction that
// the runner opens for a migration they would commit half of it, or leave the rest outside any transaction.
import { parseStatements } from '../sql/sql-statements.js';

/** One transaction-control statement: its text and the line of the SQL it starts on (1-based). */
export interface TransactionStatement {
  readonly statement: string;
  readonly line: number;
}

// SAVEPOINT, RELEASE and ROLLBACK TO work inside the runner's transaction, so they are allowed.
const ALLOWED_KINDS: ReadonlySet<string> = new Set(['TRANS_STMT_SAVEPOINT', 'TRANS_STMT_RELEASE', 'TRANS_STMT_ROLLBACK_TO']);

/**
 * The transaction-control statements of `sql`, in order. SQL that does not parse yields none: the server
 * then reports the syntax error itself, with its position, when the migration runs.
 */
export async function findTransactionStatements(sql: string): Promise<TransactionStatement[]> {
  return ((await parseStatements(sql)) ?? [])
    .filter((statement) => statement.transactionKind !== undefined && !ALLOWED_KINDS.has(statement.transactionKind))
    .map((statement) => ({ statement: statement.text, line: statement.firstLine }));
}
