// `migrate create NAME`: writes the next migration file in the format the folder already uses (SQL with empty up
// and down sections, a JS/TS module, or a sequelize-cli migration), SQL in a folder that holds none yet.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import { MIGRATION_FILE_NAME, readMigrationFiles } from './files.js';
import { type MigrationFile } from './migration.js';
import { SCRIPT_EXTENSION } from './script-files.js';
import { isDrizzleFolder, isPrismaFolder } from '../core/project-tools.js';

const NAME = /^[A-Za-z0-9_-]+$/;

// Left empty on purpose: until its up section is written, the file stops the supervisor and the CLI
// (SUP_ERR_MIGRATION_INVALID) instead of being recorded as an applied migration that did nothing.
const SQL_TEMPLATE = '-- migrate:up\n\n\n-- migrate:down\n\n';

// Scripts throw until they are written, for the same reason.
const NOT_WRITTEN = "throw new Error('This migration is not written yet');";

function sequelizeTemplate(esm: boolean): string {
  const body =
    '{\n' +
    `  async up(queryInterface, Sequelize) {\n    ${NOT_WRITTEN}\n  },\n\n` +
    `  async down(queryInterface, Sequelize) {\n    ${NOT_WRITTEN}\n  },\n}`;
  return esm ? `/** @type {import('sequelize-cli').Migration} */\nexport default ${body};\n` : `'use strict';\n\n/** @type {import('sequelize-cli').Migration} */\nmodule.exports = ${body};\n`;
}

function moduleTemplate(extension: string, esm: boolean): string {
  const typed = /\.[cm]?ts$/.test(extension);
  const parameter = typed ? "{ context }: { context: import('pg').ClientBase }" : '{ context }';
  const returns = typed ? ': Promise<void>' : '';
  if (!esm) {
    return `// context: a pg client; context.query(text, values) runs inside this migration's transaction.\n` +
      `exports.up = async (${parameter})${returns} => {\n  ${NOT_WRITTEN}\n};\n\n` +
      `exports.down = async (${parameter})${returns} => {\n  ${NOT_WRITTEN}\n};\n`;
  }
  return `// context: a pg client; context.query(text, values) runs inside this migration's transaction.\n` +
    `export async function up(${parameter})${returns} {\n  ${NOT_WRITTEN}\n}\n\n` +
    `export async function down(${parameter})${returns} {\n  ${NOT_WRITTEN}\n}\n`;
}

// `YYYYMMDDHHmmss`, UTC, as sequelize-cli names its migrations.
function timestamp(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

// The existing migrations (SQL ones by name only: one just created may still be empty); none in a new folder.
async function existing(dir: string): Promise<Pick<MigrationFile, 'kind' | 'fileName' | 'path'>[]> {
  const entries = (await readdir(dir)).sort();
  if (entries.some((entry) => SCRIPT_EXTENSION.test(entry) && !entry.endsWith('.d.ts'))) return readMigrationFiles(dir);
  return entries.filter((entry) => MIGRATION_FILE_NAME.test(entry)).map((fileName) => ({ kind: 'sql', fileName, path: path.join(dir, fileName) }));
}

// The tools that write their own migrations (and keep files the supervisor does not generate: journals, snapshots).
const TOOL_COMMANDS: Partial<Record<MigrationFile['kind'], { tool: string; command: string }>> = {
  prisma: { tool: 'Prisma', command: 'npx prisma migrate dev --name NAME' },
  drizzle: { tool: 'drizzle-kit', command: 'npx drizzle-kit generate --name NAME' },
  knex: { tool: 'knex', command: 'npx knex migrate:make NAME' },
  'node-pg-migrate': { tool: 'node-pg-migrate', command: 'npx node-pg-migrate create NAME' },
};

/** Creates the next migration file in `dir`, in the folder's format; returns its path. */
export async function createMigrationFile(dir: string, name: string, now = new Date()): Promise<string> {
  if (!NAME.test(name)) {
    throw new SupervisorError(ErrorCodes.USAGE, `Expected the migration's name to use only letters, digits, _ and -, got "${name}"`, {
      hint: 'For example: health-gate migrate create add_due_dates',
    });
  }
  await mkdir(dir, { recursive: true });
  const files = isPrismaFolder(dir) || isDrizzleFolder(dir) ? [] : await existing(dir);
  const last = files.at(-1);
  const kind = isPrismaFolder(dir) ? 'prisma' : isDrizzleFolder(dir) ? 'drizzle' : last?.kind;
  const own = kind ? TOOL_COMMANDS[kind] : undefined;
  if (own) {
    throw new SupervisorError(ErrorCodes.USAGE, `The migrations in ${dir} are ${own.tool}'s: write the next one with ${own.tool}`, {
      hint: `Run \`${own.command}\`; the supervisor runs what it writes as it is.`,
    });
  }
  const extension = last ? path.extname(last.fileName) : '.sql';
  let fileName: string;
  let content: string;
  if (last?.kind === 'sequelize' || (last && /^\d{14}-/.test(last.fileName))) {
    // Never before the last one, even when the clock is behind its name.
    const stamp = String(Math.max(Number(timestamp(now)), Number(/^\d+/.exec(last.fileName)?.[0] ?? 0) + 1));
    fileName = `${stamp}-${name}${extension}`;
  } else {
    const numbers = files.flatMap((file) => /^(\d+)/.exec(file.fileName)?.[1] ?? []);
    const width = Math.max(4, ...numbers.map((number) => number.length));
    const next = Math.max(0, ...numbers.map(Number)) + 1;
    fileName = `${String(next).padStart(width, '0')}_${name}${extension}`;
  }
  if (!last || last.kind === 'sql') {
    content = SQL_TEMPLATE;
  } else {
    const source = await readFile(last.path, 'utf8');
    const esm = extension === '.mjs' || extension === '.mts' || (!/\.c[jt]s$/.test(extension) && /^\s*export\s/m.test(source));
    content = last.kind === 'sequelize' ? sequelizeTemplate(esm) : moduleTemplate(extension, esm);
  }
  const file = path.join(dir, fileName);
  await writeFile(file, content, { flag: 'wx' });
  return file;
}
