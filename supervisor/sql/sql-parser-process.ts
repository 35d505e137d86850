// Runs libpg_query's parser for sql-statements.ts in a process of its own, started with V8's
// --liftoff-only: on Node 24 the optimising compile of this WebAssembly parser, which the supervisor's own
// process cannot switch off once started, takes ~400 ms of CPU and ~600 MB of memory in the background,
// more than a 512 MB instance has. Started by sql-statements.ts with an IPC channel; not meant to be run by hand.
import { parse } from 'libpg-query';

export interface ParseRequest {
  readonly id: number;
  readonly sql: string;
}

export interface ParseResponse {
  readonly id: number;
  /** libpg_query's statements, or undefined when the SQL does not parse. */
  readonly stmts: unknown[] | undefined;
}

process.on('message', (message: ParseRequest) => {
  void parse(message.sql).then(
    (result: { stmts?: unknown[] }) => process.send?.({ id: message.id, stmts: result.stmts ?? [] } satisfies ParseResponse),
    () => process.send?.({ id: message.id, stmts: undefined } satisfies ParseResponse),
  );
});
// The supervisor going away ends this process too.
process.on('disconnect', () => process.exit(0));
