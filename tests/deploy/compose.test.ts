// compose.yaml: the Compose Specification's schema with unknown keys refused, `docker compose config` where the
// Docker CLI has its compose plugin, and what the supervisor reads from it.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../supervisor/core/config.js';
import { PROJECT_ROOT } from '../render/blueprint.js';
import { imageEnvironment, SHUTDOWN_MARGIN_MS } from './dockerfile.js';
import { unknownKeys } from './strict-schema.js';

const file = path.join(PROJECT_ROOT, 'compose.yaml');
const text = readFileSync(file, 'utf8');
/* eslint-disable @typescript-eslint/no-explicit-any -- the file is read as plain data, its shape is what the tests check */
const compose = parse(text) as any;
const schema = JSON.parse(readFileSync(new URL('./schemas/compose-spec.schema.json', import.meta.url), 'utf8')) as object;
// Its $schema names draft 07 by an https address that Ajv does not know by that name; draft 07 is Ajv's default.
const draft07: Record<string, unknown> = { ...schema };
delete draft07.$schema;
const validate = new Ajv({ allErrors: true, strict: false }).compile(draft07);
const app = compose.services.app;
const db = compose.services.db;

// "30s", "1m30s" in seconds.
function seconds(duration: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  if (!match || duration === '') throw new Error(`Not a Compose duration: ${duration}`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

// The plugin is what `docker compose` runs; the Docker CLI alone (as on this project's machines) has none. The file
// is checked against the schema in any case; this is the same check by the tool itself, where a user has it.
function composePlugin(): boolean {
  return spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
}

describe('compose.yaml', () => {
  it("is valid against the Compose Specification's schema, with no unknown key", () => {
    expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
    expect(unknownKeys(schema, compose)).toEqual([]);
    const misspelt = { ...compose, services: { ...compose.services, app: { ...app, stop_grace_periods: '30s', build: { context: '.', dockrfile: 'Dockerfile' } } } };
    expect(unknownKeys(schema, misspelt).sort()).toEqual(['/services/app/build/dockrfile', '/services/app/stop_grace_periods']);
  });

  const hasPlugin = composePlugin();
  if (!hasPlugin) process.stderr.write('tests: skipped `docker compose config` in tests/deploy/compose.test.ts: no Docker CLI with the compose plugin; the schema check above stands in for it\n');
  it.runIf(hasPlugin)('passes docker compose config', () => {
    execFileSync('docker', ['compose', '--file', file, 'config', '--quiet'], { cwd: PROJECT_ROOT, stdio: 'pipe' });
  });

  it('builds the app from the Dockerfile and runs a pinned PostgreSQL next to it', () => {
    expect(app.build).toBe('.');
    expect(db.image).toMatch(/^postgres:\d+\.\d+(-[a-z]+)?$/);
    expect(app.depends_on).toEqual(['db']);
  });

  it("gives the app the database's own credentials, by its service name, and the supervisor accepts it for production", () => {
    const url = new URL(app.environment.DATABASE_URL);
    expect(url.hostname).toBe('db');
    expect(decodeURIComponent(url.username)).toBe(db.environment.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(db.environment.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${db.environment.POSTGRES_DB}`);
    const config = loadConfig({ ...imageEnvironment(), ...app.environment }, PROJECT_ROOT);
    expect(config.isProduction).toBe(true);
    expect(config.migrateOnStart).toBe(true);
    expect(app.ports).toEqual([`${config.port}:${config.port}`]);
  });

  it("gives the supervisor its whole shutdown before Compose's SIGKILL, and restarts it when it fails", () => {
    const config = loadConfig({ ...imageEnvironment(), ...app.environment }, PROJECT_ROOT);
    expect(seconds(app.stop_grace_period) * 1000).toBeGreaterThanOrEqual(config.drainTimeoutMs + config.appStopTimeoutMs + SHUTDOWN_MARGIN_MS);
    expect(app.restart).toBe('on-failure');
  });
});
