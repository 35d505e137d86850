import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../app/config.js';
import { AppError, ErrorCodes, errorBody } from '../../app/errors.js';

describe('error codes', () => {
  it('are all listed in app/README.md with their status', async () => {
    const doc = await readFile(new URL('../../app/README.md', import.meta.url), 'utf8');
    for (const code of Object.values(ErrorCodes)) {
      const status = new AppError(code, 'x').status;
      expect(doc, code).toContain(`| \`${code}\` | ${status} |`);
    }
    expect(doc).toContain(`| \`${new ConfigError([]).code}\` |`);
  });

  it('are unique and prefixed APP_ERR_', () => {
    const codes = Object.values(ErrorCodes);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^APP_ERR_[A-Z_]+$/);
  });

  it('serialise as {error: {code, message, details}}', () => {
    expect(errorBody(new AppError(ErrorCodes.NOT_FOUND, 'No task with id 1'))).toEqual({
      error: { code: 'APP_ERR_NOT_FOUND', message: 'No task with id 1', details: [] },
    });
  });
});
