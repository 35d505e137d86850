// The SQL parser's helper process: a helper that ends fails only the parses sent to it, not those of the helper
// started after it.
import { afterAll, describe, expect, it } from 'vitest';
import { parseStatements, stopSqlParser } from '../../../supervisor/core/sql-statements.js';

afterAll(() => stopSqlParser());

describe('parseStatements', () => {
  it('parses on a new helper while the one before it is still ending', async () => {
    expect((await parseStatements('SELECT 1'))?.map((statement) => statement.text)).toEqual(['SELECT 1']);
    // The helper is told to go; its exit comes while the next parse already went to a new helper.
    stopSqlParser();
    const statements = await parseStatements('SELECT 2;\nSELECT 3');
    expect(statements?.map((statement) => [statement.text, statement.firstLine])).toEqual([
      ['SELECT 2', 1],
      ['SELECT 3', 2],
    ]);
  });
});
