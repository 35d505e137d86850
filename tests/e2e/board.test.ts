// The board as two people use it at once, each in a real headless Chromium, through the supervisor (`npm start`)
// on a fresh database: live updates over the WebSocket, drag and drop, messages, and the errors the page shows.
import pg from 'pg';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, saveScreenshot } from '../helpers/browser.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { createDelayedForwarder, type DelayedForwarder } from '../helpers/tcp-forwarder.js';
import { freePort } from '../../supervisor/core/free-port.js';

// How long a change may take to show on the other page (one WebSocket message and one board reload).
const LIVE_MS = 10_000;
const LIVE = { timeout: LIVE_MS };
// The board once a task has been dragged (third test), as the later tests start from it.
const moved = { Todo: ['Review the tests'], Done: ['Write the browser tests', 'Half a thought'] };

const cleanups: (() => Promise<unknown>)[] = [];
let db: TestDatabase;
// The database as the supervisor and the app reach it: closing it is the database going away under them.
let database: DelayedForwarder;
let sup: SupervisorProcess;
let browser: Browser;
// Two people, each in a browser context of their own (cookies, storage and socket apart).
let alice: Page;
let bob: Page;

beforeAll(async () => {
  db = await createTestDatabase('board');
  cleanups.push(() => db.drop());
  const real = new URL(db.url);
  database = createDelayedForwarder(await freePort(), { host: real.hostname, port: Number(real.port || 5432) });
  cleanups.push(() => database.close());
  await database.open();
  const viaForwarder = new URL(db.url);
  viaForwarder.port = String(database.port);
  // No APP_COMMAND: `npm start` runs the real board app behind the supervisor, which migrates the database first.
  sup = await startSupervisor({ via: 'npm', env: { DATABASE_URL: viaForwarder.toString(), APP_COMMAND: undefined } });
  cleanups.push(() => sup.kill());
  await sup.waitForPhase('ready', 60_000).catch((error: Error) => {
    throw new Error(`${error.message}; the supervisor's last lines:\n${sup.lines.slice(-20).join('\n')}`, { cause: error });
  });

  browser = await launchBrowser();
  cleanups.push(() => browser.close());
  [alice, bob] = await Promise.all([openBoard(browser), openBoard(browser)]);
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

async function openBoard(chromium: Browser): Promise<Page> {
  const context = await chromium.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${sup.url}/`);
  await page.locator('#status[data-state="live"]').waitFor(LIVE);
  return page;
}

async function reload(page: Page): Promise<void> {
  await page.reload();
  await page.locator('#status[data-state="live"]').waitFor(LIVE);
}

// The board as a person reads it: each column's title and the titles of its tasks, top to bottom.
async function boardOf(page: Page): Promise<Record<string, string[]>> {
  const board: Record<string, string[]> = {};
  for (const column of await page.locator('.column').all()) {
    board[await column.locator('h3').innerText()] = await column.locator('.task span').allInnerTexts();
  }
  return board;
}

function column(page: Page, title: string): Locator {
  return page.locator('.column').filter({ has: page.locator('h3', { hasText: new RegExp(`^${title}$`) }) });
}

async function addColumn(page: Page, title: string): Promise<void> {
  await page.locator('#new-column input[name="title"]').fill(title);
  await page.locator('#new-column').getByRole('button', { name: 'Add column' }).click();
}

// Rows as the database holds them, on a connection that is closed at once: the pool of the TestDatabase may
// still be closing its connections when drop() forces the database away, which is an uncaught 57P01 error.
async function rowsOf(sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

// The answer to the next column the page creates.
function nextColumnAnswer(page: Page): Promise<Response> {
  return page.waitForResponse((response) => response.url().endsWith('/api/kanban/columns') && response.request().method() === 'POST');
}

async function errorShown(page: Page): Promise<string | undefined> {
  const error = page.locator('#error');
  return (await error.isVisible()) ? error.innerText() : undefined;
}

// The titles of the activity feed, newest first, without their times.
async function activityOf(page: Page): Promise<string[]> {
  return page.locator('#activities li > span:not(.meta)').allInnerTexts();
}

describe('the board in two browsers through the supervisor', () => {
  it('shows a column and a task made on one page on the other without a reload', async () => {
    await expect.poll(() => bob.locator('#board').innerText(), LIVE).toBe('No columns yet: add one below.');
    await bob.evaluate(() => Object.assign(globalThis, { sameDocument: true }));

    await addColumn(alice, 'Todo');
    // As a person would: the form empties once the column is made, then the next is typed.
    await column(alice, 'Todo').waitFor(LIVE);
    await addColumn(alice, 'Done');
    await expect.poll(() => boardOf(bob), LIVE).toEqual({ Todo: [], Done: [] });

    await column(alice, 'Todo').locator('input[name="title"]').fill('Write the browser tests');
    await column(alice, 'Todo').getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => boardOf(bob), LIVE).toEqual({ Todo: ['Write the browser tests'], Done: [] });
    await expect.poll(() => activityOf(bob), LIVE).toEqual([
      'Task “Write the browser tests” created',
      'Column “Done” created',
      'Column “Todo” created',
    ]);
    expect(await bob.evaluate(() => (globalThis as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(await errorShown(alice)).toBeUndefined();
    await saveScreenshot(alice, 'board-1-alice-made-column-and-task');
    await saveScreenshot(bob, 'board-1-bob-sees-them-live');
  });

  it('keeps what a person is typing while someone else changes the board', async () => {
    const draft = column(bob, 'Done').locator('input[name="title"]');
    await draft.fill('Half a thought');
    await column(alice, 'Todo').locator('input[name="title"]').fill('Review the tests');
    await column(alice, 'Todo').locator('input[name="title"]').press('Enter');
    await expect.poll(() => boardOf(bob), LIVE).toEqual({ Todo: ['Write the browser tests', 'Review the tests'], Done: [] });
    expect(await draft.inputValue()).toBe('Half a thought');
    expect(await draft.evaluate((input) => input.ownerDocument.activeElement === input)).toBe(true);

    await bob.keyboard.press('Enter');
    await expect.poll(() => boardOf(alice), LIVE).toEqual({ Todo: ['Write the browser tests', 'Review the tests'], Done: ['Half a thought'] });
  });

  it('keeps a task dragged to another column there after both pages reload', async () => {
    // Dropped at the top of Done, above the task already there.
    await alice
      .locator('.task', { hasText: 'Write the browser tests' })
      .dragTo(column(alice, 'Done').locator('.tasks'), { targetPosition: { x: 20, y: 2 } });
    await expect.poll(() => boardOf(alice), LIVE).toEqual(moved);
    await expect.poll(() => boardOf(bob), LIVE).toEqual(moved);

    await Promise.all([reload(alice), reload(bob)]);
    await expect.poll(() => boardOf(alice), LIVE).toEqual(moved);
    await expect.poll(() => boardOf(bob), LIVE).toEqual(moved);
    const tasks = await rowsOf(
      'SELECT c.title AS "column", t.title, t.position FROM kanban_tasks t JOIN kanban_columns c ON c.id = t.column_id ORDER BY t.id',
    );
    expect(tasks).toEqual([
      { column: 'Done', title: 'Write the browser tests', position: 0 },
      { column: 'Todo', title: 'Review the tests', position: 0 },
      { column: 'Done', title: 'Half a thought', position: 1 },
    ]);
    const api = (await (await fetch(`${sup.url}/api/kanban/columns`)).json()) as { title: string; tasks: { title: string }[] }[];
    expect(api.map((c) => [c.title, c.tasks.map((task) => task.title)])).toEqual([
      ['Todo', ['Review the tests']],
      ['Done', ['Write the browser tests', 'Half a thought']],
    ]);
    await saveScreenshot(bob, 'board-2-bob-after-drag-and-reload');
  });

  it('shows a message posted on one page on both', async () => {
    await bob.locator('#new-message input[name="author"]').fill('Bob');
    await bob.locator('#new-message textarea[name="body"]').fill('Moved it to Done, thanks!');
    await bob.locator('#new-message').getByRole('button', { name: 'Send' }).click();

    for (const page of [bob, alice]) {
      const newest = page.locator('#messages li').first();
      await newest.getByText('Moved it to Done, thanks!').waitFor(LIVE);
      expect(await newest.locator('.meta').innerText()).toMatch(/^Bob · /);
      await expect.poll(() => activityOf(page), LIVE).toContain('Bob posted a message');
    }
    expect(await bob.locator('#new-message textarea[name="body"]').inputValue()).toBe('');
    expect(await rowsOf('SELECT author, body FROM messages')).toEqual([{ author: 'Bob', body: 'Moved it to Done, thanks!' }]);
    await saveScreenshot(alice, 'board-3-alice-sees-bobs-message');
  });

  it('shows why the API refused a change (400) and clears it after the next one', async () => {
    // A title of spaces passes the browser's `required`; the API trims it and answers 400.
    const answer = nextColumnAnswer(alice);
    await addColumn(alice, '   ');
    expect((await answer).status()).toBe(400);
    await expect.poll(() => errorShown(alice), LIVE).toBe(
      'Invalid request body (title: Too small: expected string to have >=1 characters)',
    );
    await saveScreenshot(alice, 'board-4-invalid-title');
    expect(await boardOf(alice)).toEqual(moved);
    expect(await errorShown(bob)).toBeUndefined();

    await addColumn(alice, 'Doing');
    await expect.poll(() => boardOf(alice), LIVE).toEqual({ ...moved, Doing: [] });
    expect(await errorShown(alice)).toBeUndefined();
  });

  it('says the database is unavailable (503) while it is gone, and works again once it is back', async () => {
    await database.close();
    const answer = nextColumnAnswer(alice);
    await addColumn(alice, 'Later');
    expect((await answer).status()).toBe(503);
    await expect.poll(() => errorShown(alice), LIVE).toBe('The database is unavailable; try again shortly');
    expect(await alice.locator('#new-column input[name="title"]').inputValue()).toBe('Later');
    expect(await alice.locator('#status').innerText()).toBe('live');
    await saveScreenshot(alice, 'board-5-database-gone');

    await database.open();
    await alice.locator('#new-column').getByRole('button', { name: 'Add column' }).click();
    const board = { ...moved, Doing: [], Later: [] };
    await expect.poll(() => boardOf(alice), LIVE).toEqual(board);
    await expect.poll(() => boardOf(bob), LIVE).toEqual(board);
    expect(await errorShown(alice)).toBeUndefined();
    const columns = await rowsOf('SELECT title FROM kanban_columns ORDER BY position');
    expect(columns.map((row) => row.title)).toEqual(['Todo', 'Done', 'Doing', 'Later']);
    await saveScreenshot(alice, 'board-6-database-back');
  });

  it('scrolls the board, not the page, once the columns are wider than the window', async () => {
    await addColumn(bob, 'Blocked');
    await column(alice, 'Blocked').waitFor(LIVE);
    // The messages stay within the window; the board scrolls sideways within itself.
    const { width } = alice.viewportSize() ?? { width: 0 };
    const messages = await alice.locator('aside').boundingBox();
    expect(messages && messages.x + messages.width).toBeLessThanOrEqual(width);
    expect(await alice.locator('#board').evaluate((board) => board.scrollWidth > board.clientWidth)).toBe(true);
    await saveScreenshot(alice, 'board-7-five-columns');
  });
});
