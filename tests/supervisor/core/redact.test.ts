import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogging } from '../../../supervisor/core/logger.js';
import { createScrubber, passwordOf, redactCredentialFields, redactUrlCredentials, secretForms } from '../../../supervisor/core/redact.js';

// A logger writing into an array of lines, as the supervisor's root logger writes to stdout.
async function capturedLogging(secrets: readonly (string | undefined)[]) {
  const chunks: string[] = [];
  const output = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  const logging = await createLogging({ level: 'info', format: 'json', isProduction: true, secrets, output });
  return { logging, text: () => chunks.join('') };
}

describe('redaction', () => {
  it('scrubs secrets known only after the start, such as the embedded database\'s password, once added', async () => {
    const { logging, text } = await capturedLogging([]);
    const password = 'Zk3-embedded-pw-1f9a';
    logging.addSecrets([`postgres://supervisor:${password}@127.0.0.1:5439/app`, password]);
    logging.logger.info({ event: 'x' }, `connecting with ${password}`);
    logging.writeJsonLine(JSON.stringify({ msg: `app sees postgres://supervisor:${password}@127.0.0.1:5439/app` }));
    expect(text()).not.toContain(password);
    expect(text()).toContain('***');
  });

  it('masks the password of any URL in text', () => {
    expect(redactUrlCredentials('connect postgres://app:s3cr3t@db:5432/x failed')).toBe('connect postgres://app:***@db:5432/x failed');
    expect(redactUrlCredentials('redis://u:a@h and https://x:yz@h2')).toBe('redis://u:***@h and https://x:***@h2');
    // As an app's JSON prints it: a quote in the password escaped.
    expect(redactUrlCredentials('{"url":"postgres://app:pa\\"ss@db/x"}')).toBe('{"url":"postgres://app:***@db/x"}');
  });

  it('removes known secrets, raw and URL-encoded', () => {
    const scrub = createScrubber(['p@ss/word']);
    expect(scrub('raw p@ss/word and encoded p%40ss%2Fword and lower-case p%40ss%2fword')).toBe('raw *** and encoded *** and lower-case ***');
    expect(passwordOf('postgres://u:p%40ss%2Fword@h/d')).toBe('p@ss/word');
  });

  it.each([
    ['a quote', 'pa"ss"wd', '{"msg":"db pa\\"ss\\"wd"}'],
    ['a backslash', 'c:\\secret\\x', '{"msg":"c:\\\\secret\\\\x"}'],
    ['a quote, escaped twice', 'pa"ss"wd', '{"msg":"{\\"pw\\":\\"pa\\\\\\"ss\\\\\\"wd\\"}"}'],
    ['a backslash, escaped twice', 'back\\slash', '"back\\\\\\\\slash"'],
    ['a control character', 'tab\there', '{"x":"tab\\there"}'],
    ['non-ASCII escaped as \\u', 'pässwörd', '{"x":"p\\u00e4ssw\\u00f6rd"}'],
    ['a space as + (form encoding)', 'two words', 'q=two+words&x=1'],
    ['a space as %20', 'two words', 'q=two%20words'],
  ])('removes a secret with %s in its JSON-escaped or encoded form', (_what, secret, line) => {
    expect(createScrubber([secret])(line)).not.toMatch(/ss.?.?.?wd|secret|slash|here|rd|words/);
  });

  it('lists every form of a secret', () => {
    expect(secretForms('a"b c')).toEqual(expect.arrayContaining(['a"b c', 'a%22b%20c', 'a%22b+c', 'a\\"b c', 'a\\\\\\"b c']));
  });

  it.each([
    ['a URL', 'postgres://app:ab@db/app', 'postgres://app:***@db/app'],
    ['a JSON field', '{"user":"app","password":"ab"}', '{"user":"app","password":"***"}'],
    ['a JSON field, spaced', '{"password" : "ab"}', '{"password" : "***"}'],
    ['a JSON field escaped once more', '{"msg":"{\\"password\\":\\"ab\\"}"}', '{"msg":"{\\"password\\":\\"***\\"}"}'],
    ['a keyword/value string', 'host=db user=app password=ab dbname=app', 'host=db user=app password=*** dbname=app'],
    ['a quoted keyword value', "password='a b' host=db", "password=*** host=db"],
    ['a query string', '?user=app&pwd=ab&x=1', '?user=app&pwd=***&x=1'],
  ])('removes a short secret, and any credential, where it stands in %s', (_where, line, expected) => {
    expect(createScrubber(['ab'])(line)).toBe(expected);
    expect(redactCredentialFields(line)).toBe(expected);
  });

  it('leaves a short secret alone in free text, where replacing it would mangle the line and give it away', () => {
    expect(createScrubber(['ab'])('a table named abc')).toBe('a table named abc');
  });

  it("keeps secrets out of every log line, the child's included", async () => {
    const url = 'postgres://app:topsecret1@db/app';
    const { logging, text } = await capturedLogging([url, passwordOf(url)]);
    logging.logger.info({ databaseUrl: url }, `connecting to ${url}`);
    logging.logger.error({ err: new Error(`auth failed for topsecret1`) }, 'failed');
    logging.writeJsonLine(JSON.stringify({ level: 30, msg: 'child says topsecret1' }));
    expect(text()).not.toContain('topsecret1');
    expect(text()).toContain('child says ***');
  });

  it('keeps a password with quotes and backslashes out of the log, however the app prints it', async () => {
    const password = 'q"uo\\te/d@pw';
    const url = `postgres://app:${encodeURIComponent(password)}@db/app`;
    const { logging, text } = await capturedLogging([url, passwordOf(url)]);
    const appJson = JSON.stringify({ config: { password, url, note: `pw is ${password}` } });
    logging.writeJsonLine(JSON.stringify({ level: 30, msg: 'config', dump: appJson })); // JSON inside JSON
    logging.writeJsonLine(appJson);
    logging.logger.info(`app printed: ${appJson}`); // escaped twice by the logger
    logging.logger.warn({ stream: 'stderr' }, `raw ${password} and encoded ${encodeURIComponent(password)}`);
    const written = text();
    for (const form of ['q"uo', 'uo\\te', 'uo\\\\te', 'uo\\\\\\\\te', 'q%22uo']) expect(written).not.toContain(form);
    expect(written).toContain('***');
  });

  it('keeps a short password out of the log where it stands as one', async () => {
    const url = 'postgres://app:x9@db/app';
    const { logging, text } = await capturedLogging([url, passwordOf(url)]);
    logging.writeJsonLine(JSON.stringify({ level: 30, msg: 'config', db: { user: 'app', password: 'x9' }, url }));
    logging.logger.info(`connecting with password=x9 to ${url}`);
    expect(text()).not.toMatch(/[:=]"?x9|\\"x9/);
    expect(text()).toContain('password=***');
  });
});
