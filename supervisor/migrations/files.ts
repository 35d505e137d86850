// Reads `migrations/<number>_<name>.sql` files: up/down sections, the no-transaction marker, a checksum.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';

/** One migration file, parsed. `name` is the file name without `.sql`; it keys the history. */
export interface MigrationFile {
  readonly name: string;
  readonly path: string;
  readonly up: string;
  readonly down: string | undefined;
  /** False when the file says `-- migrate:no-transaction` (e.g. CREATE INDEX CONCURRENTLY). */
  readonly transactional: boolean;
  /** SHA-256 of the file with line endings normalised, so a checkout with CRLF is not a "change". */
  readonly checksum: string;
  /** The file's line numbers where the up and down SQL start, so that errors can point into the file. */
  readonly firstLine: { readonly up: number; readonly down: number | undefined };
}

/** `<number>_<name>.sql`: files run in name order (so numbers need one width), the name without `.sql` keys the history. */
export const MIGRATION_FILE_NAME = /^(\d+)_([A-Za-z0-9_-]+)\.sql$/;
const MARKER = /^--\s*migrate:(up|down|no-transaction)\b.*$/;

export function checksumOf(content: string): string {
  return createHash('sha256').update(content.replace(/\r\n/g, '\n')).digest('hex');
}

function invalid(file: string, problem: string): SupervisorError {
  return new SupervisorError(ErrorCodes.MIGRATION_INVALID, `Migration ${file}: ${problem}`, {
    hint: 'Fix the migration file; the README describes the format.',
  });
}

/** Splits a file into its sections. Without markers the whole file is the up step. */
export function parseMigration(fileName: string, content: string, filePath = fileName): MigrationFile {
  const match = MIGRATION_FILE_NAME.exec(fileName);
  if (!match) throw invalid(fileName, 'the file name must look like `0001_create_messages.sql`');

  const sections: Record<'up' | 'down', string[] | undefined> = { up: undefined, down: undefined };
  let current: 'up' | 'down' | 'preamble' = 'preamble';
  let transactional = true;
  const preamble: string[] = [];
  const firstLine: Partial<Record<'up' | 'down' | 'preamble', number>> = {};

  for (const [index, line] of content.replace(/\r\n/g, '\n').split('\n').entries()) {
    const marker = MARKER.exec(line.trim());
    if (!marker && line.trim() !== '') firstLine[current] ??= index + 1;
    if (marker?.[1] === 'no-transaction') {
      transactional = false;
    } else if (marker) {
      const section = marker[1] as 'up' | 'down';
      if (sections[section]) throw invalid(fileName, `more than one \`-- migrate:${section}\` section`);
      sections[section] = [];
      current = section;
    } else if (current === 'preamble') {
      preamble.push(line);
    } else {
      sections[current]?.push(line);
    }
  }

  const hasMarkers = sections.up !== undefined || sections.down !== undefined;
  if (hasMarkers && preamble.some((line) => line.trim() !== '' && !line.trim().startsWith('--'))) {
    throw invalid(fileName, 'SQL before the first `-- migrate:` marker; put it inside the up section');
  }
  const up = (hasMarkers ? (sections.up ?? []) : preamble).join('\n').trim();
  if (up === '' || isOnlyComments(up)) throw invalid(fileName, 'the up section is empty');
  const down = sections.down?.join('\n').trim();

  return {
    name: fileName.slice(0, -'.sql'.length),
    path: filePath,
    up,
    down: down === undefined || down === '' || isOnlyComments(down) ? undefined : down,
    transactional,
    checksum: checksumOf(content),
    firstLine: { up: (hasMarkers ? firstLine.up : firstLine.preamble) ?? 1, down: firstLine.down },
  };
}

function isOnlyComments(sql: string): boolean {
  return sql.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'));
}

/** Reads every `.sql` file in `dir` in name order; rejects duplicate numbers and badly named `.sql` files, ignores the rest. */
export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    throw new SupervisorError(ErrorCodes.MIGRATION_INVALID, `Cannot read the migrations folder ${dir}`, {
      cause: error,
      hint: 'Set MIGRATIONS_DIR to the folder that holds the .sql migration files.',
    });
  }
  const sqlFiles = entries.filter((entry) => entry.endsWith('.sql')).sort();
  const migrations = await Promise.all(
    sqlFiles.map(async (fileName) => {
      const filePath = path.join(dir, fileName);
      return parseMigration(fileName, await readFile(filePath, 'utf8'), filePath);
    }),
  );

  const seen = new Map<string, string>();
  for (const migration of migrations) {
    const number = String(Number(migration.name.split('_')[0]));
    const other = seen.get(number);
    if (other) throw invalid(migration.name, `has the same number as ${other}; give each migration its own number`);
    seen.set(number, migration.name);
  }
  return migrations;
}
