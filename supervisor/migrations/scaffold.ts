// `migrate create NAME`: writes the next numbered migration file with empty up and down sections.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import { MIGRATION_FILE_NAME } from './files.js';

const NAME = /^[A-Za-z0-9_-]+$/;

// Left empty on purpose: until its up section is written, the file stops the supervisor and the CLI
// (SUP_ERR_MIGRATION_INVALID) instead of being recorded as an applied migration that did nothing.
const TEMPLATE = '-- migrate:up\n\n\n-- migrate:down\n\n';

/** Creates `<dir>/<next number>_<name>.sql` (numbers padded like the existing ones, at least 4 digits); returns its path. */
export async function createMigrationFile(dir: string, name: string): Promise<string> {
  if (!NAME.test(name)) {
    throw new SupervisorError(ErrorCodes.USAGE, `Expected the migration's name to use only letters, digits, _ and -, got "${name}"`, {
      hint: 'For example: health-gate migrate create add_due_dates',
    });
  }
  await mkdir(dir, { recursive: true });
  const numbers = (await readdir(dir)).flatMap((entry) => MIGRATION_FILE_NAME.exec(entry)?.[1] ?? []);
  const width = Math.max(4, ...numbers.map((number) => number.length));
  const next = Math.max(0, ...numbers.map(Number)) + 1;
  const file = path.join(dir, `${String(next).padStart(width, '0')}_${name}.sql`);
  await writeFile(file, TEMPLATE, { flag: 'wx' });
  return file;
}
