// render.yaml against Render's published Blueprint schema and documented rules, and against this project's facts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../supervisor/core/config.js';
import {
  PROJECT_ROOT,
  parseBlueprint,
  readBlueprintText,
  serviceEnv,
  webService,
  withStartScriptDefaults,
  type Blueprint,
  type Service,
} from './blueprint.js';

// Render's JSON schema for render.yaml (see SCHEMA-SOURCE.md next to it). Not strict: the schema itself
// leaves out `type` next to some `required` lists, which Ajv's strict mode rejects.
const schema = JSON.parse(readFileSync(new URL('./render.yaml.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

const packageJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  engines: { node: string };
};

const text = readBlueprintText();
const blueprint = parseBlueprint(text);
const service = webService(blueprint);
const database = blueprint.databases?.[0];
// Stands in for the internal URL Render puts into DATABASE_URL; nothing connects to it here.
const PLACEHOLDER_URL = 'postgres://render:placeholder@dpg-example-a/app';
// What the supervisor reads on Render: the service's variables over the defaults that `npm start` sets.
const env = withStartScriptDefaults(packageJson.scripts.start ?? '', serviceEnv(service, { databaseUrl: PLACEHOLDER_URL }));

function schemaErrors(candidate: Blueprint): string[] {
  if (validate(candidate)) return [];
  return (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`);
}

type Version = readonly [number, number, number];

function parseVersion(value: string): Version {
  const match = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(value.trim());
  if (!match) throw new Error(`Not a version: ${value}`);
  return [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
}

function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

// Enough of npm's range syntax for an engines field made of `>=` and `<` comparators.
function satisfies(version: string, range: string): boolean {
  return range
    .trim()
    .split(/\s+/)
    .every((comparator) => {
      const match = /^(>=|<)(.+)$/.exec(comparator);
      if (!match) throw new Error(`This test understands only ">=x <y" ranges, got "${range}"`);
      const order = compareVersions(parseVersion(version), parseVersion(match[2]!));
      return match[1] === '>=' ? order >= 0 : order < 0;
    });
}

describe('render.yaml', () => {
  it("is valid against Render's published Blueprint JSON schema", () => {
    expect(schemaErrors(blueprint)).toEqual([]);
  });

  it('declares one Node web service and the Postgres database it links to', () => {
    expect(blueprint.services).toHaveLength(1);
    expect(service).toMatchObject({ type: 'web', runtime: 'node' });
    expect(blueprint.databases).toHaveLength(1);
    const link = service.envVars?.find((entry) => entry.key === 'DATABASE_URL');
    // connectionString is the internal URL: Render's private network, no TLS needed.
    expect(link).toEqual({ key: 'DATABASE_URL', fromDatabase: { name: database?.name, property: 'connectionString' } });
  });

  it('keeps the database off the internet, in the same region as the service', () => {
    // An empty allow list blocks every external connection; the internal URL is not affected.
    expect(database?.ipAllowList).toEqual([]);
    // The internal URL works only within one region (both default to the same one when unset).
    expect(database?.region).toBe(service.region);
  });

  it('builds without the database, with NODE_ENV=production set on the service', () => {
    expect(env.NODE_ENV).toBe('production');
    // With NODE_ENV=production npm leaves out devDependencies (TypeScript among them) unless told otherwise.
    expect(service.buildCommand).toMatch(/\bnpm ci --include=dev\b/);
    expect(service.buildCommand).toMatch(/\bnpm run build\b/);
    expect(packageJson.scripts.build).toBeDefined();
    // Render's build has no private network: nothing in it may migrate or reach the database.
    expect(service.buildCommand).not.toMatch(/migrat|DATABASE_URL|psql|npm start/i);
  });

  it("starts with npm start and is health-checked on the supervisor's readiness path", () => {
    expect(service.startCommand).toBe('npm start');
    expect(packageJson.scripts.start).toBeDefined();
    // /health is the supervisor's readiness check (200 only when ready); /health/live would pass during startup.
    expect(service.healthCheckPath).toBe('/health');
  });

  it("gives the supervisor's whole shutdown time before Render's SIGKILL", () => {
    const config = loadConfig(env, PROJECT_ROOT);
    const shutdownBudgetMs = config.drainTimeoutMs + config.appStopTimeoutMs;
    expect(service.maxShutdownDelaySeconds).toBeDefined();
    expect(shutdownBudgetMs).toBeLessThanOrEqual((service.maxShutdownDelaySeconds ?? 30) * 1000);
  });

  it("pins Node 24, which package.json's engines (with an upper bound) allows", () => {
    const nodeVersion = env.NODE_VERSION;
    expect(nodeVersion).toMatch(/^24(\.\d+){0,2}$/);
    const engines = packageJson.engines.node;
    // Render: always give the range an upper bound, or it resolves to the newest major some day.
    expect(engines).toMatch(/</);
    const [major] = parseVersion(nodeVersion!);
    const pinned = nodeVersion!.includes('.') ? [nodeVersion!] : [`${major}.0.0`, `${major}.999.999`];
    for (const version of pinned) expect(satisfies(version, engines), `${version} within "${engines}"`).toBe(true);
  });

  it('configures the supervisor validly for production, migrating at start without a pre-deploy step', () => {
    const config = loadConfig(env, PROJECT_ROOT);
    expect(config.isProduction).toBe(true);
    expect(config.host).toBe('0.0.0.0');
    expect(service.preDeployCommand).toBeUndefined();
    expect(config.migrateOnStart).toBe(true);
    // The board app's own choices, made in its npm start as a user's project would make them.
    expect(config.appCommand).toBe('node dist/app/server.js');
    expect(config.requiredTables).toEqual(['messages', 'activities', 'kanban_columns', 'kanban_tasks']);
  });

  it('follows the free plan rules: no pre-deploy command, one instance', () => {
    if (service.plan !== 'free') return;
    expect(service.preDeployCommand).toBeUndefined();
    expect(service.scaling).toBeUndefined();
    expect(service.numInstances ?? 1).toBe(1);
  });

  it('holds no secrets', () => {
    for (const entry of service.envVars ?? []) {
      expect(entry.generateValue, `${entry.key} is generated by Render`).toBeUndefined();
      if (entry.value === undefined) continue;
      expect(entry.key, 'a secret-looking variable with a value in the file').not.toMatch(/PASSWORD|SECRET|TOKEN|KEY/i);
      expect(String(entry.value), `${entry.key} holds credentials`).not.toMatch(/:\/\/[^/\s]*@/);
    }
  });
});

describe("render.yaml's commented alternative for paid plans", () => {
  const commented = /^\s*#\s*preDeployCommand:\s*(\S.*?)\s*$/m.exec(text)?.[1];
  const enabled: Service = {
    ...service,
    plan: 'starter',
    preDeployCommand: commented,
    envVars: service.envVars?.map((entry) => (entry.key === 'MIGRATE_ON_START' ? { ...entry, value: 'false' } : entry)),
  };
  const script = /^npm run ([\w:-]+)/.exec(commented ?? '')?.[1];

  it('is a valid Blueprint once uncommented, with the supervisor only verifying at start', () => {
    expect(commented).toMatch(/^npm run [\w:-]+/);
    expect(schemaErrors({ ...blueprint, services: [enabled] })).toEqual([]);
    const enabledEnv = withStartScriptDefaults(packageJson.scripts.start ?? '', serviceEnv(enabled, { databaseUrl: PLACEHOLDER_URL }));
    expect(loadConfig(enabledEnv, PROJECT_ROOT).migrateOnStart).toBe(false);
  });

  it('names an npm script that package.json defines', () => {
    expect(script).toBeDefined();
    expect(packageJson.scripts[script as string], `npm run ${script ?? '?'}`).toBeDefined();
  });
});
