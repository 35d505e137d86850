import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../supervisor/core/errors.js';

describe('error codes', () => {
  it('are all listed in the README error table', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `(SUP_ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]));
    expect([...documented].sort()).toEqual(Object.values(ErrorCodes).sort());
  });

  it('are unique', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
