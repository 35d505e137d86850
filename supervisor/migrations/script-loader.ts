// Loads a JS/TS migration when it is about to run: ES modules and CommonJS alike (through `import()`), `.ts` where
// Node strips types itself; its `up` and `down` functions, or a clear error.
import { pathToFileURL } from 'node:url';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { ScriptMigration } from './migration.js';

/** A migration's functions, with the arguments of its kind (umzug's `{ name, path, context }`, or sequelize-cli's two). */
export interface LoadedScript {
  readonly up: (...args: unknown[]) => Promise<unknown>;
  readonly down: ((...args: unknown[]) => Promise<unknown>) | undefined;
}

const TYPESCRIPT = /\.[cm]?ts$/;

function invalid(file: ScriptMigration, problem: string, hint: string, cause?: unknown): SupervisorError {
  return new SupervisorError(ErrorCodes.MIGRATION_INVALID, `Migration ${file.fileName}: ${problem}`, { hint, cause });
}

/** Whether this Node runs `.ts` files itself (type stripping: Node 22.18+, 23.6+, or 22.6+ with --experimental-strip-types). */
export function nodeStripsTypes(): boolean {
  const { typescript } = process.features as { typescript?: string | false };
  return typeof typescript === 'string' && typescript !== '';
}

/** Refuses, before anything runs, a migration this Node cannot load (`.ts` without type stripping). */
export function assertLoadable(file: ScriptMigration): void {
  if (TYPESCRIPT.test(file.fileName) && !nodeStripsTypes()) {
    throw invalid(
      file,
      `this Node (${process.version}) cannot run TypeScript files`,
      'Run the supervisor on Node 22.18 or later (or 23.6+), which strip types themselves, or on Node 22.6+ with ' +
        'NODE_OPTIONS=--experimental-strip-types; or compile the migrations to .js.',
    );
  }
}

/** Imports the migration and returns its `up` and `down` (from `module.exports`, named exports or a default export). */
export async function loadScript(file: ScriptMigration): Promise<LoadedScript> {
  assertLoadable(file);
  let imported: Record<string, unknown>;
  try {
    imported = (await import(pathToFileURL(file.path).href)) as Record<string, unknown>;
  } catch (error) {
    throw invalid(file, `cannot be loaded: ${(error as Error).message}`, 'Fix the file so that Node can import it.', error);
  }
  const exports = typeof imported.up === 'function' ? imported : ((imported.default ?? {}) as Record<string, unknown>);
  if (typeof exports.up !== 'function') {
    throw invalid(
      file,
      'exports no `up` function',
      file.kind === 'sequelize'
        ? 'A sequelize-cli migration exports `{ async up(queryInterface, Sequelize) {…}, async down(queryInterface, Sequelize) {…} }`.'
        : 'A migration module exports `async function up({ context }) {…}` (and `down`), where `context` is a pg client.',
    );
  }
  return {
    up: exports.up as LoadedScript['up'],
    down: typeof exports.down === 'function' ? (exports.down as LoadedScript['down']) : undefined,
  };
}
