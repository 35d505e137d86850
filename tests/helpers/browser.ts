// A real headless Chromium for the browser tests, and the folder their screenshots go to.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sparticuz from '@sparticuz/chromium';
import pRetry, { AbortError } from 'p-retry';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Screenshots to look at after a run; the folder ignores itself in git. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../.artifacts/', import.meta.url));

// Chromium dials out in the background (updates, sync, field trials, QUIC probes); the network here is closed.
const NO_BACKGROUND_NETWORKING = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
// For a Chromium of the system's (CHROMIUM_PATH), as root.
const SYSTEM_CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', ...NO_BACKGROUND_NETWORKING];
// @sparticuz/chromium asks for one process (for AWS Lambda). In it, closing one browser context closes the whole
// browser, so two users in two contexts cannot come and go; with a process per page they can.
const SPARTICUZ_DROPPED_ARGS = new Set(['--single-process']);
// Test files run two at a time: the first one unpacks the browser into os.tmpdir(), the other waits for it, since
// @sparticuz/chromium takes an existing (even half-written) `chromium` file there as unpacked.
const UNPACK_LOCK = path.join(os.tmpdir(), 'chromium-unpack.lock');
// A lock older than this was left by a run that was killed while unpacking (which takes about 3 s).
const STALE_LOCK_MS = 60_000;

async function takeUnpackLock(): Promise<void> {
  await pRetry(
    async () => {
      try {
        await mkdir(UNPACK_LOCK);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new AbortError(error as Error);
        const since = Date.now() - (await stat(UNPACK_LOCK).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
        if (since > STALE_LOCK_MS) await rm(UNPACK_LOCK, { recursive: true, force: true });
        throw new Error(`another test process holds ${UNPACK_LOCK}`, { cause: error });
      }
    },
    { retries: 300, minTimeout: 100, maxTimeout: 500 },
  );
}

// The path of the Chromium that ships in @sparticuz/chromium, unpacked on first use (to /tmp/chromium).
async function unpackedChromium(): Promise<string> {
  await takeUnpackLock();
  try {
    return await sparticuz.executablePath();
  } finally {
    await rm(UNPACK_LOCK, { recursive: true, force: true });
  }
}

/**
 * Launches a headless Chromium: the binary at `CHROMIUM_PATH` when that is set, otherwise the one that
 * `npm install` brings with @sparticuz/chromium. Throws an error that says what to do when it cannot start,
 * so that a browser test fails rather than being skipped.
 */
export async function launchBrowser(): Promise<Browser> {
  const systemChromium = process.env.CHROMIUM_PATH;
  let executablePath: string | undefined = systemChromium;
  try {
    if (systemChromium) return await chromium.launch({ executablePath: systemChromium, headless: true, args: SYSTEM_CHROMIUM_ARGS });
    executablePath = await unpackedChromium();
    const args = [...sparticuz.args.filter((arg) => !SPARTICUZ_DROPPED_ARGS.has(arg)), ...NO_BACKGROUND_NETWORKING];
    return await chromium.launch({ executablePath, headless: true, args });
  } catch (error) {
    const advice = systemChromium
      ? 'Point CHROMIUM_PATH at a working Chromium binary, or unset it to use the one from @sparticuz/chromium.'
      : `It needs Node ^22.17 or >=24 (this is ${process.version}) and the devDependencies installed (\`npm install\`). ` +
        `If a run was stopped while unpacking it, delete ${path.join(os.tmpdir(), 'chromium')} and run again. ` +
        'Or set CHROMIUM_PATH to a Chromium binary (e.g. /usr/bin/chromium after `apt-get install chromium`).';
    const where = executablePath ? ` at ${executablePath}` : '';
    const reason = (error as Error).message.split('\n')[0];
    throw new Error(`The browser tests could not start Chromium${where}: ${reason}. ${advice}`, { cause: error });
  }
}

/** Saves a full-page screenshot as `tests/.artifacts/<name>.png` and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await writeFile(path.join(ARTIFACTS_DIR, '.gitignore'), '*\n');
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
