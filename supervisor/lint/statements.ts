// The statements of a migration's SQL as line ranges, with PostgreSQL's own parser, so that a finding can be
// tied to its statement and an accept comment to the statement that follows it.

/** A statement's first and last line in the text (1-based, inclusive). */
export interface StatementLines {
  readonly firstLine: number;
  readonly lastLine: number;
}

interface ParsedStatement {
  readonly stmt_location?: number | null;
  readonly stmt_len?: number | null;
}

// A statement's location includes the space and comments after the previous one.
const LEADING_SPACE_AND_COMMENTS = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/** The statements of `sql` in order; none when it does not parse (the linter reports the syntax error). */
export async function statementLines(sql: string): Promise<StatementLines[]> {
  const { parse } = await import('libpg-query');
  let statements: readonly ParsedStatement[];
  try {
    statements = ((await parse(sql)) as { stmts?: readonly ParsedStatement[] }).stmts ?? [];
  } catch {
    return [];
  }
  // Locations are byte offsets into the UTF-8 text.
  const bytes = Buffer.from(sql, 'utf8');
  return statements.map(({ stmt_location: location, stmt_len: length }) => {
    const start = location ?? 0;
    const text = bytes.subarray(start, length ? start + length : bytes.length).toString('utf8');
    const leading = LEADING_SPACE_AND_COMMENTS.exec(text)?.[0] ?? '';
    const before = bytes.subarray(0, start).toString('utf8') + leading;
    const firstLine = before.split('\n').length;
    return { firstLine, lastLine: firstLine + text.slice(leading.length).trimEnd().split('\n').length - 1 };
  });
}
