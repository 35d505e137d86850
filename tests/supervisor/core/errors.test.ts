import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../supervisor/core/errors.js';

describe('error codes', () => {
  // One table in docs/error-codes.md holds every code: a new entry of ErrorCodes fails here until it has its row.
  it('each have a row in the table of docs/error-codes.md', async () => {
    const doc = await readFile(new URL('../../../docs/error-codes.md', import.meta.url), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]));
    for (const code of Object.values(ErrorCodes)) expect(rows.has(code), `${code} has no row in docs/error-codes.md`).toBe(true);
    // A SUP_ERR_ row that ErrorCodes no longer has documents a code that nothing gives.
    const known = new Set<string>(Object.values(ErrorCodes));
    expect([...rows].filter((code) => code?.startsWith('SUP_ERR_') && !known.has(code))).toEqual([]);
  });

  it('are unique', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
