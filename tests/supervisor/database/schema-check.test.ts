// REQUIRED_TABLES as written: `Messages` finds "Messages" (else messages), `"Messages"` only "Messages", per part of `schema.Table`.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { candidateNames, findMissingTables } from '../../../supervisor/database/schema-check.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('schema_check');
  await db.query('CREATE TABLE "Messages" (id int); CREATE TABLE users (id int); CREATE SCHEMA "Billing"; CREATE TABLE "Billing"."Invoices" (id int)');
});
afterAll(async () => {
  await db.drop();
});

describe('candidateNames', () => {
  it.each([
    ['messages', ['"messages"']],
    ['Messages', ['"Messages"', '"messages"']],
    ['"Messages"', ['"Messages"']],
    ['Billing.Invoices', ['"Billing"."Invoices"', '"Billing"."invoices"', '"billing"."Invoices"', '"billing"."invoices"']],
    ['"we""ird"', ['"we""ird"']],
  ])('%s → %j', (entry, names) => {
    expect(candidateNames(entry)).toEqual(names);
  });
});

describe('findMissingTables', () => {
  it('finds tables as written, sequelize-cli mixed case included, and lists the missing ones in order', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    onTestFinished(() => client.end());
    expect(await findMissingTables(client, ['Messages', '"Messages"', 'users', 'Users', 'Billing.Invoices', 'public.Messages'])).toEqual([]);
    expect(await findMissingTables(client, ['messages', 'Nope', '"Users"', 'billing.invoices'])).toEqual([
      'messages',
      'Nope',
      '"Users"',
      'billing.invoices',
    ]);
    expect(await findMissingTables(client, [])).toEqual([]);
  });
});
