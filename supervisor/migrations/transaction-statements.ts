// Finds the statements in a migration's SQL that begin or end a transaction (BEGIN, START TRANSACTION,
// COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED), with PostgreSQL's own
// parser: inside the transaction that the runner opens for a migration they would commit half of it, or
// leave the rest outside any transaction. Strings, dollar-quoted bodies, comments and BEGIN ATOMIC
// function bodies cannot fool a real parser as they fool a pattern.

/** One transaction-control statement: its text and the line of the SQL it starts on (1-based). */
export interface TransactionStatement {
  readonly statement: string;
  readonly line: number;
}

// SAVEPOINT, RELEASE and ROLLBACK TO work inside the runner's transaction, so they are allowed.
const ALLOWED_KINDS: ReadonlySet<string> = new Set(['TRANS_STMT_SAVEPOINT', 'TRANS_STMT_RELEASE', 'TRANS_STMT_ROLLBACK_TO']);

// A statement's location includes the space and comments after the previous one.
const LEADING_SPACE_AND_COMMENTS = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

interface ParsedStatement {
  readonly stmt: { readonly TransactionStmt?: { readonly kind: string } };
  readonly stmt_location?: number | null;
  readonly stmt_len?: number | null;
}

/**
 * The transaction-control statements of `sql`, in order. SQL that does not parse yields none: the server
 * then reports the syntax error itself, with its position, when the migration runs.
 */
export async function findTransactionStatements(sql: string): Promise<TransactionStatement[]> {
  // A WebAssembly build of libpg_query, loaded only when a migration is to be checked.
  const { parse } = await import('libpg-query');
  let statements: readonly ParsedStatement[];
  try {
    statements = ((await parse(sql)) as { stmts?: readonly ParsedStatement[] }).stmts ?? [];
  } catch {
    return [];
  }
  // Locations are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(sql, 'utf8');
  const found: TransactionStatement[] = [];
  for (const { stmt, stmt_location: location, stmt_len: length } of statements) {
    const kind = stmt.TransactionStmt?.kind;
    if (kind === undefined || ALLOWED_KINDS.has(kind)) continue;
    const start = location ?? 0;
    const text = bytes.subarray(start, length ? start + length : bytes.length).toString('utf8');
    const leading = LEADING_SPACE_AND_COMMENTS.exec(text)?.[0].length ?? 0;
    const before = bytes.subarray(0, start).toString('utf8') + text.slice(0, leading);
    found.push({ statement: text.slice(leading).trim(), line: before.split('\n').length });
  }
  return found;
}
