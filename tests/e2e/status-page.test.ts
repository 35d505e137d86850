// The status page in a real headless Chromium: a deploy watched from a browser tab, from an unreachable
// database through a migration to the app's own page, with no reload but the page's own.
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, saveScreenshot } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { MIGRATIONS_DIR } from '../helpers/migrate.js';
import { freePort } from '../../supervisor/core/free-port.js';
import { healthOf, startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { createDelayedForwarder, type DelayedForwarder } from '../helpers/tcp-forwarder.js';

// Three page reloads (5 s apart) and a start leave room within this.
const STEP_TIMEOUT_MS = 30_000;

const cleanups: (() => Promise<unknown>)[] = [];
let db: TestDatabase;
let browser: BrowserContext;

beforeAll(async () => {
  const chromium = await launchBrowser();
  cleanups.push(() => chromium.close());
  browser = await chromium.newContext({ viewport: { width: 960, height: 640 } });
  db = await createTestDatabase('status_page');
  cleanups.push(() => db.drop());
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

// The project's migrations plus one that waits on a table lock the test holds, so the page can be seen mid-migration.
async function gatedMigrations(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const name of await readdir(MIGRATIONS_DIR)) await copyFile(path.join(MIGRATIONS_DIR, name), path.join(dir, name));
  await writeFile(path.join(dir, '0004_wait_for_gate.sql'), 'LOCK TABLE status_page_gate IN ACCESS EXCLUSIVE MODE;\n');
  return dir;
}

async function holdGate(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  cleanups.push(() => client.end());
  await client.query('CREATE TABLE status_page_gate ()');
  await client.query('BEGIN');
  await client.query('LOCK TABLE status_page_gate IN ACCESS EXCLUSIVE MODE');
  return client;
}

async function screenshot(page: Page, name: string): Promise<void> {
  await saveScreenshot(page, `status-page-${name}`);
}

describe('the status page in a browser', () => {
  let sup: SupervisorProcess;
  let forwarder: DelayedForwarder;

  it('shows each phase and the last error while starting, then the app once ready', { timeout: 180_000 }, async () => {
    const target = new URL(db.url);
    forwarder = createDelayedForwarder(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
    cleanups.push(() => forwarder.close());
    const throughForwarder = new URL(db.url);
    throughForwarder.port = String(forwarder.port);
    const gate = await holdGate(db.url);

    // The real app, started the way the platform starts it.
    sup = await startSupervisor({
      via: 'npm',
      env: {
        DATABASE_URL: throughForwarder.toString(),
        APP_COMMAND: undefined,
        MIGRATIONS_DIR: await gatedMigrations(),
        MIGRATION_LOCK_TIMEOUT_MS: '0',
        // Long enough to look at the page while the app restarts (second test): a request waits for the app for
        // 1 s (APP_HOLD_TIMEOUT_MS), then gets the page.
        APP_RESTART_BACKOFF_MS: '8000',
        APP_HOLD_TIMEOUT_MS: '1000',
      },
    });
    cleanups.push(() => sup.kill());
    await sup.waitForLog((entry) => entry.event === 'database_unavailable');

    const page = await browser.newPage();
    const first = await page.goto(`${sup.url}/`);
    expect(first?.status()).toBe(503);
    expect(first?.headers()['retry-after']).toBe('5');
    await expect(page.title()).resolves.toBe('Waiting for the database');
    expect(await page.locator('h1').textContent()).toBe('Waiting for the database…');
    expect(await page.locator('.error').textContent()).toBe('Last error: SUP_ERR_DB_UNAVAILABLE');
    expect(await page.locator('.steps li[data-status="fail"]').textContent()).toBe('✗ Database SUP_ERR_DB_UNAVAILABLE');
    expect(await page.locator('footer').textContent()).toContain('Phase waiting_for_database for');
    // A visitor sees codes, not the database's address or the error's text (tests/edge/disclosure.test.ts).
    expect(await page.content()).not.toMatch(new RegExp(`${db.name}|${forwarder.port}|ECONNREFUSED`));
    await screenshot(page, '1-waiting-for-database');

    // An API client asking at the same moment gets JSON, not the page.
    const api = await fetch(`${sup.url}/api/messages`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(503);
    expect(await api.json()).toMatchObject({ error: { code: 'SUP_ERR_NOT_READY', phase: 'waiting_for_database' } });

    await forwarder.open();
    await page.locator('h1', { hasText: 'Applying database migrations…' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await page.content()).not.toContain('0004_wait_for_gate');
    expect(await page.locator('.error').count()).toBe(0);
    expect(await page.locator('.steps li[data-status="pass"]').textContent()).toMatch(/^✓ Database/);
    expect(await page.locator('.steps li[data-status="running"]').textContent()).toBe('● Migrations');
    await screenshot(page, '2-migrating');

    await gate.query('COMMIT');
    await page.locator('#status[data-state="live"]').waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await page.title()).toBe('Board');
    expect(await page.locator('h1').textContent()).toBe('Board');
    expect((await healthOf(sup.url)).status).toBe(200);
    await screenshot(page, '3-app');
    await page.close();
  });

  it('shows the app crash it is recovering from, then the app again', { timeout: 120_000 }, async () => {
    const appReady = sup.entries().find((entry) => entry.event === 'app_ready');
    process.kill(appReady?.childPid as number, 'SIGKILL');
    await sup.waitForPhase('restarting_app');

    const page = await browser.newPage();
    await page.goto(`${sup.url}/`);
    expect(await page.locator('h1').textContent()).toBe('Restarting the app…');
    expect(await page.locator('.error').textContent()).toBe('Last error: SUP_ERR_APP_EXITED');
    expect(await page.locator('.steps li[data-status="fail"]').textContent()).toBe('✗ App SUP_ERR_APP_EXITED');
    await screenshot(page, '4-restarting-app');

    await page.locator('#status[data-state="live"]').waitFor({ timeout: STEP_TIMEOUT_MS });
    expect(await page.locator('h1').textContent()).toBe('Board');
    await page.close();
  });
});
