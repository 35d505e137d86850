// What the project's own migration tool says, read from its own configuration files without running the tool: where
// its migrations are and what its history table is called. The migrations folder defaults from it (see config.ts),
// and the tool's history is kept where the tool keeps it (see migrations/formats/).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** A migration tool whose layout and history the supervisor knows. */
export type ProjectTool = 'sequelize-cli' | 'prisma' | 'knex' | 'drizzle-kit' | 'node-pg-migrate';

/** The project's tool and what its configuration says; paths are relative to the project. */
export interface ProjectMigrations {
  readonly tool: ProjectTool;
  readonly dir: string;
  /** The history table's name, when the configuration changes it (knex `tableName`, drizzle `migrations.table`, node-pg-migrate `-t`). */
  readonly table?: string;
  /** The history table's schema, when the configuration sets it (knex `schemaName`, drizzle `migrations.schema`). */
  readonly schema?: string;
  /** knex `loadExtensions`: the file extensions that are migrations. */
  readonly loadExtensions?: readonly string[];
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function firstExisting(cwd: string, names: readonly string[]): string | undefined {
  return names.map((name) => path.join(cwd, name)).find((file) => existsSync(file));
}

// A string setting written literally in a config file (`out: './drizzle'`), for files that are TypeScript or
// import packages: read, not run, so that no import of theirs runs inside the supervisor.
function literal(source: string, key: string): string | undefined {
  return new RegExp(`\\b${key}\\s*:\\s*(['"\`])([^'"\`]+)\\1`).exec(source)?.[2];
}

function sequelizerc(cwd: string): ProjectMigrations | undefined {
  const file = path.join(cwd, '.sequelizerc');
  if (!existsSync(file)) return undefined;
  try {
    const value = (createRequire(file)(file) as Record<string, unknown>)['migrations-path'];
    return { tool: 'sequelize-cli', dir: typeof value === 'string' && value !== '' ? value : 'migrations' };
  } catch {
    return undefined; // a .sequelizerc that does not load is sequelize-cli's to report
  }
}

// Prisma keeps `migrations` beside the schema: `prisma/schema.prisma`, `package.json#prisma.schema`, the `schema`
// (or `migrations.path`) of `prisma.config.ts`, or a folder of `.prisma` files (`prisma/schema/`).
function prisma(cwd: string): ProjectMigrations | undefined {
  const configFile = firstExisting(cwd, ['prisma.config.ts', 'prisma.config.mts', 'prisma.config.js', 'prisma.config.mjs', '.config/prisma.ts']);
  const config = configFile ? readFileSync(configFile, 'utf8') : '';
  const migrationsPath = /migrations\s*:\s*\{[^}]*?\bpath\s*:\s*(['"`])([^'"`]+)\1/.exec(config)?.[2];
  if (migrationsPath) return { tool: 'prisma', dir: migrationsPath };
  const packageSchema = (readJson(path.join(cwd, 'package.json'))?.prisma as { schema?: unknown } | undefined)?.schema;
  const schema = literal(config, 'schema') ?? (typeof packageSchema === 'string' ? packageSchema : undefined);
  const candidates = schema ? [schema] : ['prisma/schema.prisma', 'prisma/schema', 'schema.prisma'];
  for (const candidate of candidates) {
    const full = path.resolve(cwd, candidate);
    if (!existsSync(full)) continue;
    const isFolder = !candidate.endsWith('.prisma');
    // A folder of .prisma files keeps its migrations inside it when they are there (Prisma 5.15+), else beside it.
    const inside = path.join(full, 'migrations');
    const dir = isFolder && existsSync(inside) ? inside : path.join(path.dirname(full), 'migrations');
    return { tool: 'prisma', dir: path.relative(cwd, dir) };
  }
  return undefined;
}

function knexfile(cwd: string, environment: string): ProjectMigrations | undefined {
  const file = firstExisting(cwd, ['knexfile.js', 'knexfile.cjs', 'knexfile.mjs', 'knexfile.ts']);
  if (!file) return undefined;
  let settings: Record<string, unknown>;
  try {
    const load = createRequire(file);
    const loaded = load(file) as Record<string, unknown>;
    // Read as it is now, each time: not the copy Node cached at an earlier read.
    delete load.cache[load.resolve(file)];
    const config = (loaded.default ?? loaded) as Record<string, unknown>;
    // A knexfile is one configuration, or one per environment (`development`, `production`), as knex reads it.
    settings = ((config.migrations || config.client ? config : (config[environment] ?? config.development)) ?? {}) as Record<string, unknown>;
  } catch {
    // A knexfile that does not load (it needs its own imports): its literal settings are read instead.
    const source = readFileSync(file, 'utf8');
    settings = { migrations: { directory: literal(source, 'directory'), tableName: literal(source, 'tableName'), schemaName: literal(source, 'schemaName') } };
  }
  const migrations = (settings.migrations ?? {}) as Record<string, unknown>;
  const directory = Array.isArray(migrations.directory) ? migrations.directory[0] : migrations.directory;
  return {
    tool: 'knex',
    dir: typeof directory === 'string' ? directory : 'migrations',
    ...(typeof migrations.tableName === 'string' ? { table: migrations.tableName } : {}),
    ...(typeof migrations.schemaName === 'string' ? { schema: migrations.schemaName } : {}),
    ...(Array.isArray(migrations.loadExtensions) ? { loadExtensions: migrations.loadExtensions.filter((entry): entry is string => typeof entry === 'string') } : {}),
  };
}

function drizzleConfig(cwd: string): ProjectMigrations | undefined {
  const file = firstExisting(cwd, ['drizzle.config.ts', 'drizzle.config.mts', 'drizzle.config.js', 'drizzle.config.mjs', 'drizzle.config.cjs', 'drizzle.config.json']);
  if (!file) return undefined;
  const source = readFileSync(file, 'utf8');
  const migrations = /migrations\s*:\s*\{([^}]*)\}/.exec(source)?.[1] ?? '';
  const table = literal(migrations, 'table');
  const schema = literal(migrations, 'schema');
  return { tool: 'drizzle-kit', dir: literal(source, 'out') ?? 'drizzle', ...(table ? { table } : {}), ...(schema ? { schema } : {}) };
}

// node-pg-migrate is configured on its command line: `-m`/`--migrations-dir` and `-t`/`--migrations-table` in the scripts.
function nodePgMigrate(cwd: string): ProjectMigrations | undefined {
  const manifest = readJson(path.join(cwd, 'package.json'));
  const dependencies = { ...(manifest?.dependencies as object), ...(manifest?.devDependencies as object) };
  if (!('node-pg-migrate' in dependencies)) return undefined;
  const scripts = Object.values((manifest?.scripts ?? {}) as Record<string, string>).filter((script) => script.includes('node-pg-migrate'));
  const flag = (short: string, long: string): string | undefined => {
    for (const script of scripts) {
      const found = new RegExp(`(?:\\s-${short}|\\s--${long})(?:\\s+|=)(['"]?)([^\\s'"]+)\\1`).exec(script)?.[2];
      if (found) return found;
    }
    return undefined;
  };
  const table = flag('t', 'migrations-table');
  return { tool: 'node-pg-migrate', dir: flag('m', 'migrations-dir') ?? 'migrations', ...(table ? { table } : {}) };
}

/**
 * The project's migration tool, found from its own files: `.sequelizerc`, Prisma's schema, a knexfile, a drizzle
 * config, or node-pg-migrate among the dependencies (in that order). Undefined when none is there.
 */
export function findProjectMigrations(cwd: string, environment = 'development'): ProjectMigrations | undefined {
  return sequelizerc(cwd) ?? prisma(cwd) ?? knexfile(cwd, environment) ?? drizzleConfig(cwd) ?? nodePgMigrate(cwd);
}

/** Whether `dir` is laid out as Prisma keeps migrations: `migration_lock.toml`, or folders holding `migration.sql`. */
export function isPrismaFolder(dir: string): boolean {
  try {
    if (existsSync(path.join(dir, 'migration_lock.toml'))) return true;
    return readdirSync(dir, { withFileTypes: true }).some((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')));
  } catch {
    return false;
  }
}

/** Whether `dir` is a drizzle-kit `out` folder: it has `meta/_journal.json`. */
export function isDrizzleFolder(dir: string): boolean {
  return existsSync(path.join(dir, 'meta', '_journal.json'));
}
