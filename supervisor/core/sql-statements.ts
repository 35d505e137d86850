// A migration's SQL split into statements by PostgreSQL's own parser (libpg_query compiled to WebAssembly, run in
// a helper process started when SQL is first read: see sql-parser-process.ts): each statement's text, lines, and
// kind where it controls transactions. Strings, dollar-quoted bodies, comments and BEGIN ATOMIC function bodies
// cannot fool it as they fool a pattern.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ParseRequest, ParseResponse } from './sql-parser-process.js';

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

// Compiled beside this module; when this module runs from its TypeScript source (this repository's tests), the
// build's copy.
const PARSER_PROCESS = [new URL('./sql-parser-process.js', import.meta.url), new URL('../dist/core/sql-parser-process.js', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((file) => existsSync(file)) ?? fileURLToPath(new URL('./sql-parser-process.js', import.meta.url));
// The helper process stays for more SQL a moment, then goes: a start parses its migrations in one burst.
const PARSER_IDLE_MS = 2_000;
// A parse takes milliseconds; one that takes this long has a stuck helper, which is ended.
const PARSE_TIMEOUT_MS = 30_000;

// A helper process and the parses sent to it: a helper that ends fails its own parses, never those sent to the
// one started after it (an idle helper told to go may exit after the next parse went to a new one).
interface Helper {
  readonly child: ChildProcess;
  readonly sent: Map<number, { resolve: (stmts: unknown[] | undefined) => void; reject: (error: Error) => void }>;
}
let parser: Helper | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let nextId = 0;

function parserProcess(): Helper {
  if (parser?.child.connected) return parser;
  const child = fork(PARSER_PROCESS, [], { execArgv: ['--liftoff-only'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const helper: Helper = { child, sent: new Map() };
  child.on('message', ({ id, stmts }: ParseResponse) => {
    helper.sent.get(id)?.resolve(stmts);
    helper.sent.delete(id);
  });
  child.on('exit', (code, signal) => {
    if (parser === helper) parser = undefined;
    for (const { reject } of helper.sent.values()) reject(new Error(`the SQL parser process ended (${signal ?? `exit ${code}`})`));
    helper.sent.clear();
  });
  // Only a pending parse keeps the supervisor's event loop alive for the helper (see parseInHelper).
  child.unref();
  child.channel?.unref();
  parser = helper;
  return helper;
}

function parseInHelper(sql: string): Promise<unknown[] | undefined> {
  const { child, sent } = parserProcess();
  clearTimeout(idleTimer);
  const id = nextId++;
  child.channel?.ref();
  let timer: NodeJS.Timeout | undefined;
  return new Promise<unknown[] | undefined>((resolve, reject) => {
    sent.set(id, { resolve, reject });
    child.send({ id, sql } satisfies ParseRequest);
    timer = setTimeout(() => {
      sent.delete(id);
      reject(new Error(`the SQL parser process did not answer within ${PARSE_TIMEOUT_MS} ms`));
      child.kill();
    }, PARSE_TIMEOUT_MS);
  }).finally(() => {
    clearTimeout(timer);
    if (sent.size > 0) return;
    child.channel?.unref();
    idleTimer = setTimeout(() => child.connected && child.disconnect(), PARSER_IDLE_MS).unref();
  });
}

/** Ends the helper process now (a start ends it once its migrations ran, so that nothing outlives them). */
export function stopSqlParser(): void {
  clearTimeout(idleTimer);
  parser?.child.kill();
  parser = undefined;
}

/** The statements of `sql` in order, or undefined when it does not parse (the server will say why). */
export async function parseStatements(sql: string): Promise<SqlStatement[] | undefined> {
  const parsed = (await parseInHelper(sql)) as readonly ParsedStatement[] | undefined;
  if (parsed === undefined) return undefined;
  const statements = parsed;
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
