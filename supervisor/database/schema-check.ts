// Checks that the tables the app needs exist, with a parameterised `to_regclass` (no SQL built from names).
// A name is found as it is written: `Messages` finds the table "Messages" (as sequelize-cli creates it) and, when there
// is none, `messages` (what the unquoted name means in SQL); `"Messages"` finds only "Messages"; `schema.Table` likewise
// for each part; without a schema, the search_path decides.
import type { Queryable } from './connection.js';

const quote = (part: string): string => `"${part.replace(/"/g, '""')}"`;

interface NamePart {
  readonly text: string;
  readonly quoted: boolean;
}

// Splits `schema.table` at the dots outside double quotes; `"a""b"` is `a"b`.
function partsOf(entry: string): NamePart[] {
  const parts: NamePart[] = [];
  let text = '';
  let quoted = false;
  let inQuotes = false;
  for (let index = 0; index < entry.length; index += 1) {
    const char = entry[index]!;
    if (inQuotes) {
      if (char === '"' && entry[index + 1] === '"') {
        text += '"';
        index += 1;
      } else if (char === '"') {
        inQuotes = false;
      } else {
        text += char;
      }
    } else if (char === '"') {
      inQuotes = true;
      quoted = true;
    } else if (char === '.') {
      parts.push({ text, quoted });
      text = '';
      quoted = false;
    } else {
      text += char;
    }
  }
  parts.push({ text: quoted ? text : text.trim(), quoted });
  return parts;
}

/** The qualified names an entry of REQUIRED_TABLES may mean, the name as written first. */
export function candidateNames(entry: string): string[] {
  const spellings = partsOf(entry.trim()).map((part) =>
    part.quoted || part.text === part.text.toLowerCase() ? [part.text] : [part.text, part.text.toLowerCase()],
  );
  const combine = (index: number): string[][] =>
    index === spellings.length ? [[]] : spellings[index]!.flatMap((spelling) => combine(index + 1).map((rest) => [spelling, ...rest]));
  return combine(0).map((parts) => parts.map(quote).join('.'));
}

/** The entries of `tables` (`name` or `schema.name`, as written; see above) that do not resolve to a relation. */
export async function findMissingTables(client: Queryable, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const entries = tables.flatMap((table, index) => candidateNames(table).map((candidate) => ({ index, candidate })));
  const { rows } = await client.query<{ n: number }>(
    'SELECT n FROM unnest($1::int[], $2::text[]) AS t(n, name) GROUP BY n HAVING bool_and(to_regclass(name) IS NULL) ORDER BY n',
    [entries.map((entry) => entry.index), entries.map((entry) => entry.candidate)],
  );
  return rows.map((row) => tables[row.n]!);
}
