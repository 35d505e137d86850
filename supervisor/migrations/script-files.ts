// Tells JS/TS migrations apart without loading them (an up-to-date start loads none): umzug-style modules,
// `up({ context })`, against sequelize-cli migrations, `up(queryInterface, Sequelize)`, from the parameters of
// their `up`; a folder whose files do not say is taken as sequelize-cli's when the project uses sequelize-cli.
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import { findProjectMigrations } from '../core/project-tools.js';
import { type ScriptKind, type ScriptMigration, checksumOf, stripExtension } from './migration.js';

/** The extensions of JS/TS migrations (`.d.ts` files excepted). */
export const SCRIPT_EXTENSION = /\.(?:[cm]?js|[cm]?ts)$/;

/** A JS/TS migration's name: a number, `-` or `_`, a name (`20240101120000-create-messages.js`, `0001_create_messages.ts`). */
export const SCRIPT_FILE_NAME = /^\d+[_-][A-Za-z0-9_.-]+\.(?:[cm]?js|[cm]?ts)$/;

/** sequelize-cli's generated names: `YYYYMMDDHHmmss-name.js`. */
const SEQUELIZE_NAME = /^\d{14}-/;

// The parameter list of `up`, however it is written: method, function, property or arrow function.
const UP_PARAMETERS = [
  /\bfunction\s*\*?\s+up\s*\(([^)]*)\)/,
  /\bup\s*[:=]\s*(?:async\s+)?function\b\s*\*?\s*[\w$]*\s*\(([^)]*)\)/,
  /\bup\s*[:=]\s*(?:async\s*)?\(([^)]*)\)\s*(?::[^=]*)?=>/,
  /\bup\s*[:=]\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/,
  /(?:^|[\s,{])(?:async\s+)?up\s*\(([^)]*)\)\s*(?::[^{]*)?\{/m,
];

// Comments could hold an `up(` of their own (an example in a JSDoc block).
const COMMENTS = /\/\*[\s\S]*?\*\/|(^|[^:'"`\\])\/\/[^\n]*/g;

/** What the source of one file says it is; undefined when its `up` does not tell. */
export function kindFromSource(source: string): ScriptKind | undefined {
  const code = source.replace(COMMENTS, '$1');
  for (const pattern of UP_PARAMETERS) {
    const match = pattern.exec(code);
    if (!match) continue;
    const parameters = (match[1] ?? '').trim();
    if (parameters.startsWith('{')) return 'module';
    const names = parameters.split(',').map((parameter) => parameter.trim().split(/[\s:=]/)[0] ?? '').filter(Boolean);
    if (names.length >= 2) return 'sequelize';
    if (names.length === 1) {
      if (/^(?:queryInterface|qi|queryinterface)$/i.test(names[0]!)) return 'sequelize';
      if (/^(?:knex|trx)$/i.test(names[0]!)) return 'knex';
      if (/^pgm$/.test(names[0]!)) return 'node-pg-migrate';
      if (/^(?:context|params|migration)$/i.test(names[0]!)) return 'module';
    }
    return undefined;
  }
  return undefined;
}

// `sequelize.query('START TRANSACTION; …; COMMIT;')`, as migrations converted from SQL dumps often do.
const RAW_TRANSACTION_CONTROL = /['"`]\s*(?:START\s+TRANSACTION|BEGIN\s*(?:;|['"`])|COMMIT\b)|;\s*COMMIT\s*;?\s*['"`]/i;

/**
 * Whether a sequelize-cli migration manages its own transaction: `queryInterface.sequelize.transaction(...)`, or
 * transaction statements of its own in its SQL strings.
 */
export function opensOwnTransaction(source: string): boolean {
  const code = source.replace(COMMENTS, '$1');
  return /\.transaction\s*\(/.test(code) || RAW_TRANSACTION_CONTROL.test(code);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

function resolvesSequelize(projectDir: string): boolean {
  try {
    createRequire(path.join(projectDir, 'package.json')).resolve('sequelize');
    return true;
  } catch {
    return false;
  }
}

// A folder whose files do not say: the project's tool (`.sequelizerc`, a knexfile, node-pg-migrate among its
// dependencies), or sequelize-cli's when the files have its names and `sequelize` is installed.
async function undecidedKind(fileNames: readonly string[], projectDir: string): Promise<ScriptKind> {
  if (await exists(path.join(projectDir, '.sequelizerc'))) return 'sequelize';
  const tool = findProjectMigrations(projectDir)?.tool;
  if (tool === 'knex' || tool === 'node-pg-migrate') return tool;
  return fileNames.every((name) => SEQUELIZE_NAME.test(name)) && resolvesSequelize(projectDir) ? 'sequelize' : 'module';
}

const SIGNATURES: Record<ScriptKind, string> = {
  module: 'umzug-style modules, up({ context })',
  sequelize: 'sequelize-cli migrations, up(queryInterface, Sequelize)',
  knex: 'knex migrations, up(knex)',
  'node-pg-migrate': 'node-pg-migrate migrations, up(pgm)',
};

// Whether the migration can run in the runner's transaction: not when it opens its own (sequelize-cli), opts out of
// knex's (`config = { transaction: false }`) or calls node-pg-migrate's `pgm.noTransaction()`.
function transactional(kind: ScriptKind, source: string): boolean {
  const code = source.replace(COMMENTS, '$1');
  if (kind === 'sequelize') return !opensOwnTransaction(source);
  if (kind === 'knex') return !/\btransaction\s*:\s*false\b/.test(code);
  if (kind === 'node-pg-migrate') return !/\.noTransaction\s*\(/.test(code);
  return true;
}

function invalid(message: string, hint: string): SupervisorError {
  return new SupervisorError(ErrorCodes.MIGRATION_INVALID, message, { hint });
}

/** The JS/TS files of a folder as migrations of one kind; refuses badly named files and a folder that mixes kinds. */
export async function classifyScripts(
  dir: string,
  files: readonly { readonly fileName: string; readonly path: string; readonly source: string }[],
  projectDir: string,
): Promise<ScriptMigration[]> {
  const badNames = files.filter((file) => !SCRIPT_FILE_NAME.test(file.fileName)).map((file) => file.fileName);
  if (badNames.length > 0) {
    throw invalid(
      `Migration file name${badNames.length > 1 ? 's' : ''} ${badNames.join(', ')} in ${dir} must start with a number`,
      'Name migrations like `20240101120000-create-messages.js` or `0001_create_messages.js`: they run in name order. ' +
        'Move other files out of MIGRATIONS_DIR.',
    );
  }
  const byKind = new Map<ScriptKind, string[]>();
  for (const file of files) {
    const kind = kindFromSource(file.source);
    if (kind) byKind.set(kind, [...(byKind.get(kind) ?? []), file.fileName]);
  }
  if (byKind.size > 1) {
    const described = [...byKind].map(([kind, names]) => `${SIGNATURES[kind]}: ${names.join(', ')}`);
    throw invalid(
      `The migrations folder ${dir} mixes ${described.join(', with ')}`,
      'Keep one kind of migration per folder: each kind keeps its own history (SequelizeMeta, knex_migrations, pgmigrations or schema_migrations).',
    );
  }
  const kind: ScriptKind = [...byKind.keys()][0] ?? (await undecidedKind(files.map((file) => file.fileName), projectDir));
  const project = findProjectMigrations(projectDir);
  const history = project && (project.tool === kind || (kind === 'node-pg-migrate' && project.tool === 'node-pg-migrate')) ? { table: project.table, schema: project.schema } : undefined;
  return files.map((file) => ({
    kind,
    // SequelizeMeta and knex_migrations key a migration by its file name, extension included.
    name: kind === 'sequelize' || kind === 'knex' ? file.fileName : stripExtension(file.fileName),
    fileName: file.fileName,
    path: file.path,
    transactional: transactional(kind, file.source),
    checksum: checksumOf(file.source),
    hasDown: /\bdown\b/.test(file.source.replace(COMMENTS, '$1')),
    ...(history ? { history } : {}),
  }));
}
