// Reads render.yaml the way Render does and turns a service's envVars into the environment Render sets.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One entry of a service's `envVars` (the kinds this project uses, plus the ones it must not). */
export interface EnvVar {
  readonly key?: string;
  readonly value?: string | number;
  readonly fromDatabase?: { readonly name: string; readonly property: string };
  readonly fromService?: unknown;
  readonly fromGroup?: string;
  readonly generateValue?: boolean;
  readonly sync?: boolean;
}

export interface Service {
  readonly type: string;
  readonly name: string;
  readonly runtime: string;
  readonly plan?: string;
  readonly region?: string;
  readonly buildCommand?: string;
  readonly startCommand?: string;
  readonly preDeployCommand?: string;
  readonly healthCheckPath?: string;
  readonly maxShutdownDelaySeconds?: number;
  readonly numInstances?: number;
  readonly scaling?: unknown;
  readonly envVars?: readonly EnvVar[];
}

export interface Database {
  readonly name: string;
  readonly plan?: string;
  readonly region?: string;
  readonly ipAllowList?: readonly { source: string; description?: string }[];
}

export interface Blueprint {
  readonly services?: readonly Service[];
  readonly databases?: readonly Database[];
}

/** render.yaml's text, from the project root or from a copy of the repository. */
export function readBlueprintText(root: string = PROJECT_ROOT): string {
  return readFileSync(path.join(root, 'render.yaml'), 'utf8');
}

export function parseBlueprint(text: string): Blueprint {
  return parse(text) as Blueprint;
}

/** The one web service of the Blueprint; throws when there is not exactly one. */
export function webService(blueprint: Blueprint): Service {
  const services = (blueprint.services ?? []).filter((service) => service.type === 'web');
  if (services.length !== 1) throw new Error(`Expected one web service in render.yaml, found ${services.length}`);
  return services[0]!;
}

export interface ResolveOptions {
  /** What a `fromDatabase` entry with `property: connectionString` becomes. */
  readonly databaseUrl: string;
}

/**
 * The environment Render gives the service: literal values as strings, database links resolved.
 * Anything else (secrets to fill in, other services, groups) has no stand-in here and is an error,
 * so that a test never runs with a variable silently missing.
 */
export function serviceEnv(service: Service, { databaseUrl }: ResolveOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of service.envVars ?? []) {
    if (entry.key !== undefined && entry.value !== undefined) {
      env[entry.key] = String(entry.value);
    } else if (entry.key !== undefined && entry.fromDatabase?.property === 'connectionString') {
      env[entry.key] = databaseUrl;
    } else {
      throw new Error(`No stand-in for the envVars entry ${JSON.stringify(entry)} of ${service.name}`);
    }
  }
  return env;
}

/**
 * The board app's own settings as its `npm start` script gives them (`NAME="${NAME-default}"`): defaults
 * that the environment overrides, applied to `env` as the shell would apply them.
 */
export function withStartScriptDefaults(script: string, env: Record<string, string>): Record<string, string> {
  const result = { ...env };
  for (const [, name, colon, value] of script.matchAll(/\b(\w+)="\$\{\1(:?)-([^}]*)\}"/g)) {
    const current = result[name as string];
    if (current === undefined || (colon === ':' && current === '')) result[name as string] = value as string;
  }
  return result;
}
