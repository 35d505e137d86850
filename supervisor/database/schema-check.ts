// Checks that the tables the app needs exist, with a parameterised `to_regclass` (no SQL built from names).
import type { Queryable } from './connection.js';

/** The entries of `tables` (`name` or `schema.name`) that do not resolve to a relation. */
export async function findMissingTables(client: Queryable, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    'SELECT name FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) WHERE to_regclass(name) IS NULL ORDER BY n',
    [tables],
  );
  return rows.map((row) => row.name);
}
