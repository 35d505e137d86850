// A package of the user's project (knex, node-pg-migrate), resolved from their project as their own code would resolve
// it: the supervisor bundles none of these tools, and runs the migrations with the copy they were written for.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, SupervisorError } from '../../core/errors.js';

/** Imports `name` from `projectDir` (or the migrations folder); a clear error naming the install command when it is missing. */
export async function importProjectModule(name: string, projectDir: string, migrationsDir: string, tool: string): Promise<Record<string, unknown>> {
  for (const from of [projectDir, migrationsDir]) {
    let resolved: string;
    try {
      resolved = createRequire(path.join(path.resolve(from), 'package.json')).resolve(name);
    } catch (error) {
      if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') continue;
      throw error;
    }
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  }
  throw new SupervisorError(
    ErrorCodes.MIGRATION_INVALID,
    `The migrations in ${migrationsDir} are ${tool} migrations, but the ${name} package cannot be found from ${projectDir}`,
    { hint: `Install it in your project (\`npm install ${name} pg\`) and start the supervisor from the project folder.` },
  );
}

/** What runs knex and node-pg-migrate migrations on the project's own copy of the tool; `close` ends what it opened. */
export interface ToolRunner {
  run(file: { readonly name: string; readonly fileName: string; readonly path: string; readonly transactional: boolean }, direction: 'up' | 'down'): Promise<void>;
  close(): Promise<void>;
}
