// Fly.io's fly.toml, Railway's railway.json and Heroku's Procfile, each against its platform's format and against
// the supervisor's contract (health check on /health, shutdown time, migrations at start or in a release step).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../supervisor/core/config.js';
import { PROJECT_ROOT, withStartScriptDefaults } from '../render/blueprint.js';
import { imageEnvironment, SHUTDOWN_MARGIN_MS } from './dockerfile.js';
import { unknownKeys } from './strict-schema.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- platform files are read as plain data, their shape is what the tests check */
const read = (name: string): string => readFileSync(path.join(PROJECT_ROOT, name), 'utf8');
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const PLACEHOLDER_URL = 'postgres://user:placeholder@db.example/app';
// The supervisor in the image, with the platform's variables over the image's.
const imageConfig = (env: Record<string, string> = {}) => loadConfig({ ...imageEnvironment(), DATABASE_URL: PLACEHOLDER_URL, ...env }, PROJECT_ROOT);
const shutdownMs = (config: ReturnType<typeof loadConfig>) => config.drainTimeoutMs + config.appStopTimeoutMs + SHUTDOWN_MARGIN_MS;
const secondsOf = (value: string) => {
  const match = /^(\d+)s$/.exec(value);
  if (!match) throw new Error(`Expected a duration like "30s", got ${value}`);
  return Number(match[1]);
};

describe('fly.toml', () => {
  const text = read('fly.toml');
  const fly = parseToml(text) as any;
  const schema = JSON.parse(readFileSync(new URL('./schemas/fly.schema.json', import.meta.url), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  const env = fly.env as Record<string, string>;

  it("is valid against SchemaStore's fly.toml schema, with no unknown key", () => {
    expect(validate(fly), JSON.stringify(validate.errors)).toBe(true);
    expect(unknownKeys(schema, fly)).toEqual([]);
    expect(unknownKeys(schema, { ...fly, http_service: { ...fly.http_service, check: [] } })).toEqual(['/http_service/check']);
  });

  it("builds from the Dockerfile and serves the supervisor's port, checked on /health", () => {
    expect(existsSync(path.join(PROJECT_ROOT, fly.build.dockerfile))).toBe(true);
    expect(fly.http_service.internal_port).toBe(imageConfig(env).port);
    expect(fly.http_service.checks).toHaveLength(1);
    expect(fly.http_service.checks[0]).toMatchObject({ method: 'GET', path: '/health' });
    expect(secondsOf(fly.http_service.checks[0].timeout)).toBeGreaterThanOrEqual(5);
  });

  it("sends SIGTERM and waits the supervisor's whole shutdown", () => {
    expect(fly.kill_signal).toBe('SIGTERM');
    expect(secondsOf(fly.kill_timeout) * 1000).toBeGreaterThanOrEqual(shutdownMs(imageConfig(env)));
  });

  it('migrates at start without a release_command; the commented one is valid and names the migrate CLI', () => {
    expect(fly.deploy?.release_command).toBeUndefined();
    expect(imageConfig(env).migrateOnStart).toBe(true);
    const commented = /^#\s*release_command\s*=\s*"([^"]+)"/m.exec(text)?.[1];
    expect(commented).toBe('node supervisor/bin/health-gate.js migrate up');
    const enabled = { ...fly, deploy: { release_command: commented }, env: { ...env, MIGRATE_ON_START: 'false' } };
    expect(validate(enabled), JSON.stringify(validate.errors)).toBe(true);
    expect(unknownKeys(schema, enabled)).toEqual([]);
    expect(imageConfig(enabled.env).migrateOnStart).toBe(false);
  });

  it('holds no secret: DATABASE_URL comes from `fly secrets`', () => {
    expect(env.DATABASE_URL).toBeUndefined();
    expect(text).not.toMatch(/:\/\/[^/\s]*@/);
  });
});

// Railway publishes its schema only on its own site: these are the fields of its config-as-code reference.
const RAILWAY_FIELDS = {
  '': ['$schema', 'build', 'deploy'],
  build: ['builder', 'watchPatterns', 'buildCommand', 'dockerfilePath', 'railpackVersion', 'nixpacksConfigPath', 'nixpacksPlan', 'nixpacksVersion'],
  deploy: [
    'startCommand', 'preDeployCommand', 'numReplicas', 'healthcheckPath', 'healthcheckTimeout', 'restartPolicyType', 'restartPolicyMaxRetries',
    'cronSchedule', 'sleepApplication', 'drainingSeconds', 'overlapSeconds', 'region', 'multiRegionConfig', 'runtime', 'limitOverride', 'requiredMountPath',
  ],
} as const;

describe('railway.json', () => {
  const railway = JSON.parse(read('railway.json')) as any;

  it("uses only fields of Railway's config-as-code reference", () => {
    const unknown = [
      ...Object.keys(railway).filter((key) => !(RAILWAY_FIELDS[''] as readonly string[]).includes(key)),
      ...Object.keys(railway.build ?? {}).filter((key) => !(RAILWAY_FIELDS.build as readonly string[]).includes(key)).map((key) => `build.${key}`),
      ...Object.keys(railway.deploy ?? {}).filter((key) => !(RAILWAY_FIELDS.deploy as readonly string[]).includes(key)).map((key) => `deploy.${key}`),
    ];
    expect(unknown).toEqual([]);
  });

  it('builds from the Dockerfile, checks /health long enough for a first start, drains before SIGKILL', () => {
    const config = imageConfig();
    expect(railway.build).toEqual({ builder: 'DOCKERFILE', dockerfilePath: 'Dockerfile' });
    expect(railway.deploy.healthcheckPath).toBe('/health');
    expect(railway.deploy.healthcheckTimeout * 1000).toBeGreaterThanOrEqual(config.dbWaitTimeoutMs + config.appStartTimeoutMs);
    expect(railway.deploy.drainingSeconds * 1000).toBeGreaterThanOrEqual(shutdownMs(config));
    // The image's command is the supervisor; a start command here would replace it.
    expect(railway.deploy.startCommand).toBeUndefined();
    expect(railway.deploy.restartPolicyType).toBe('ON_FAILURE');
  });
});

describe('Procfile', () => {
  const processes = Object.fromEntries(
    read('Procfile')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const match = /^([A-Za-z0-9_-]+):\s*(\S.*)$/.exec(line);
        if (!match) throw new Error(`Not a Procfile line: ${line}`);
        return [match[1], match[2]];
      }),
  ) as Record<string, string>;

  it('runs npm start as the web process, which execs the supervisor', () => {
    expect(processes).toEqual({ web: 'npm start' });
    expect(packageJson.scripts.start).toMatch(/\bexec health-gate$/);
  });

  it('is configured validly for production by npm start on Heroku (PORT and DATABASE_URL from Heroku)', () => {
    const env = withStartScriptDefaults(packageJson.scripts.start ?? '', { NODE_ENV: 'production', PORT: '5000', DATABASE_URL: PLACEHOLDER_URL });
    const config = loadConfig(env, PROJECT_ROOT);
    expect(config.port).toBe(5000);
    expect(config.host).toBe('0.0.0.0');
    // Heroku sends SIGTERM and then SIGKILL 30 s later; it cannot be changed.
    expect(shutdownMs(config)).toBeLessThanOrEqual(30_000);
  });

  it("documents a release phase whose npm script exists", () => {
    const release = /^release: npm run ([\w:-]+)/m.exec(readFileSync(path.join(PROJECT_ROOT, 'docs/platforms/heroku.md'), 'utf8'))?.[1];
    expect(release).toBeDefined();
    expect(packageJson.scripts[release as string]).toBeDefined();
  });
});
