// SQL split into statements by PostgreSQL's own parser, in its helper process: what each statement says and where it
// is, and the helper's life (started on demand, from dist/ as from the source, ended by stopSqlParser).
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseStatements, stopSqlParser } from '../../../supervisor/sql/sql-statements.js';
import { eventually } from '../../helpers/supervisor-process.js';

afterEach(() => stopSqlParser());

// The parser helper processes below this test process.
function parserProcesses(): number[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('sql-parser-process.js'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('parseStatements', () => {
  it('gives each statement its text and lines, leaving out the comments before it', async () => {
    const sql = '-- create\nCREATE TABLE a (id int);\n\n/* then */ INSERT INTO a\nVALUES (1);\n';
    expect(await parseStatements(sql)).toEqual([
      { text: 'CREATE TABLE a (id int)', firstLine: 2, lastLine: 2, transactionKind: undefined },
      { text: 'INSERT INTO a\nVALUES (1)', firstLine: 4, lastLine: 5, transactionKind: undefined },
    ]);
  });

  it('is not fooled by semicolons in strings, dollar-quoted bodies and comments', async () => {
    const sql = "SELECT 'a;b';\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- not; a statement\nSELECT 2;";
    expect((await parseStatements(sql))?.map((statement) => statement.firstLine)).toEqual([1, 2, 4]);
  });

  it('counts lines after text that is not ASCII (the parser gives byte offsets)', async () => {
    const statements = await parseStatements("SELECT 'été';\nSELECT 'ü';\nSELECT 3;");
    expect(statements?.map(({ text, firstLine }) => [text, firstLine])).toEqual([
      ["SELECT 'été'", 1],
      ["SELECT 'ü'", 2],
      ['SELECT 3', 3],
    ]);
  });

  it('names the statements that control transactions', async () => {
    const statements = await parseStatements('BEGIN;\nSAVEPOINT s;\nCOMMIT;');
    expect(statements?.map((statement) => statement.transactionKind)).toEqual(['TRANS_STMT_BEGIN', 'TRANS_STMT_SAVEPOINT', 'TRANS_STMT_COMMIT']);
  });

  it('says undefined for SQL that does not parse', async () => {
    expect(await parseStatements('CREATE TABLE (;')).toBeUndefined();
  });
});

describe('the parser helper process', () => {
  it('starts with the first parse and ends with stopSqlParser; a later parse starts another', async () => {
    expect(parserProcesses()).toEqual([]);
    await parseStatements('SELECT 1;');
    const [first] = parserProcesses();
    expect(first).toBeGreaterThan(0);
    stopSqlParser();
    await eventually(() => (parserProcesses().length === 0 ? true : undefined), 5_000, 'the helper to end');
    expect(await parseStatements('SELECT 2;')).toHaveLength(1);
    expect(parserProcesses()).not.toContain(first);
  });

  it('runs beside the compiled module, as the installed package runs it', async () => {
    const compiled = (await import(new URL('../../../supervisor/dist/sql/sql-statements.js', import.meta.url).href)) as typeof import('../../../supervisor/sql/sql-statements.js');
    try {
      expect(await compiled.parseStatements('SELECT 1; SELECT 2;')).toHaveLength(2);
    } finally {
      compiled.stopSqlParser();
    }
  });
});
