import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogging } from '../../../supervisor/core/logger.js';
import { createScrubber, passwordOf, redactUrlCredentials } from '../../../supervisor/core/redact.js';

describe('redaction', () => {
  it('masks the password of any URL in text', () => {
    expect(redactUrlCredentials('connect postgres://app:s3cr3t@db:5432/x failed')).toBe('connect postgres://app:***@db:5432/x failed');
  });

  it('removes known secrets, raw and URL-encoded', () => {
    const scrub = createScrubber(['p@ss/word']);
    expect(scrub('raw p@ss/word and encoded p%40ss%2Fword')).toBe('raw *** and encoded ***');
    expect(passwordOf('postgres://u:p%40ss%2Fword@h/d')).toBe('p@ss/word');
  });

  it('keeps secrets out of every log line, the child\'s included', async () => {
    const chunks: string[] = [];
    const output = new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    });
    const url = 'postgres://app:topsecret1@db/app';
    const logging = await createLogging({ level: 'info', format: 'json', isProduction: true, secrets: [url, passwordOf(url)], output });
    logging.logger.info({ databaseUrl: url }, `connecting to ${url}`);
    logging.logger.error({ err: new Error(`auth failed for topsecret1`) }, 'failed');
    logging.writeJsonLine(JSON.stringify({ level: 30, msg: 'child says topsecret1' }));
    const text = chunks.join('');
    expect(text).not.toContain('topsecret1');
    expect(text).toContain('child says ***');
  });
});
