// A migration's SQL split into statements by PostgreSQL's own parser (libpg_query compiled to WebAssembly,
// loaded only when SQL is to be read): each statement's text, lines, and kind where it controls transactions.
// Strings, dollar-quoted bodies, comments and BEGIN ATOMIC function bodies cannot fool it as they fool a pattern.

export interface SqlStatement {
  /** The statement without the space and comments before it. */
  readonly text: string;
  /** Its first and last line in the SQL (1-based, inclusive). */
  readonly firstLine: number;
  readonly lastLine: number;
  /** libpg_query's kind for BEGIN, COMMIT, SAVEPOINT and the like (e.g. `TRANS_STMT_COMMIT`). */
  readonly transactionKind: string | undefined;
}

interface ParsedStatement {
  readonly stmt: { readonly TransactionStmt?: { readonly kind: string } };
  readonly stmt_location?: number | null;
  readonly stmt_len?: number | null;
}

// A statement's location includes the space and comments after the previous one.
const LEADING_SPACE_AND_COMMENTS = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/** The statements of `sql` in order, or undefined when it does not parse (the server will say why). */
export async function parseStatements(sql: string): Promise<SqlStatement[] | undefined> {
  const { parse } = await import('libpg-query');
  let statements: readonly ParsedStatement[];
  try {
    statements = ((await parse(sql)) as { stmts?: readonly ParsedStatement[] }).stmts ?? [];
  } catch {
    return undefined;
  }
  // Locations are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(sql, 'utf8');
  return statements.map(({ stmt, stmt_location: location, stmt_len: length }) => {
    const start = location ?? 0;
    const raw = bytes.subarray(start, length ? start + length : bytes.length).toString('utf8');
    const leading = LEADING_SPACE_AND_COMMENTS.exec(raw)?.[0] ?? '';
    const text = raw.slice(leading.length).trimEnd();
    const firstLine = (bytes.subarray(0, start).toString('utf8') + leading).split('\n').length;
    return { text, firstLine, lastLine: firstLine + text.split('\n').length - 1, transactionKind: stmt.TransactionStmt?.kind };
  });
}
