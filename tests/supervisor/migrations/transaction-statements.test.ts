import { describe, expect, it } from 'vitest';
import { findTransactionStatements } from '../../../supervisor/migrations/transaction-statements.js';

describe('transaction-control statements in a migration', () => {
  it('finds BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK and ABORT, with their lines', async () => {
    const sql = [
      'START TRANSACTION;',
      'CREATE TABLE "Users" (id serial PRIMARY KEY);',
      '-- the next one ends it',
      'COMMIT;',
      'begin;',
      "INSERT INTO \"Users\" DEFAULT VALUES; end; rollback; ABORT; PREPARE TRANSACTION 'x';",
    ].join('\n');
    expect(await findTransactionStatements(sql)).toEqual([
      { statement: 'START TRANSACTION', line: 1 },
      { statement: 'COMMIT', line: 4 },
      { statement: 'begin', line: 5 },
      { statement: 'end', line: 6 },
      { statement: 'rollback', line: 6 },
      { statement: 'ABORT', line: 6 },
      { statement: "PREPARE TRANSACTION 'x'", line: 6 },
    ]);
  });

  it('is not fooled by strings, quoted identifiers, comments, dollar-quoted bodies or BEGIN ATOMIC', async () => {
    const sql = `
      CREATE TABLE notes (body text DEFAULT 'BEGIN; COMMIT;', "commit" int); -- COMMIT;
      /* BEGIN; */
      DO $body$ BEGIN RAISE NOTICE 'in a block'; END $body$;
      CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;
      INSERT INTO notes (body) VALUES (E'it\\'s; ROLLBACK;');
    `;
    expect(await findTransactionStatements(sql)).toEqual([]);
  });

  it('allows savepoints, which work inside the migration transaction', async () => {
    expect(await findTransactionStatements('SAVEPOINT a; SELECT 1; ROLLBACK TO SAVEPOINT a; RELEASE a;')).toEqual([]);
  });

  it('counts lines in characters, not bytes, after non-ASCII text', async () => {
    expect(await findTransactionStatements("SELECT 'größer → ☃';\nCOMMIT;")).toEqual([{ statement: 'COMMIT', line: 2 }]);
  });

  it('leaves SQL that does not parse to the server, which reports it with its position', async () => {
    expect(await findTransactionStatements('SELEC 1; COMMIT;')).toEqual([]);
  });
});
