// The Dockerfile, without building it (no container runtime here): dockerfilelint, hadolint's well-known rules, and
// what this project needs of the image (PID 1, signals, the start command and the files it runs).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { run as dockerfilelint } from 'dockerfilelint';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../supervisor/core/config.js';
import { PROJECT_ROOT, withStartScriptDefaults } from '../render/blueprint.js';
import { envPairs, execForm, parseInstructions, parseStages, readDockerfileText } from './dockerfile.js';

const text = readDockerfileText();
const stages = parseStages(parseInstructions(text));
const final = stages.at(-1)!;
const finalOf = (keyword: string) => final.instructions.filter((instruction) => instruction.keyword === keyword);
const imageEnv = Object.assign({}, ...finalOf('ENV').map((instruction) => envPairs(instruction.args))) as Record<string, string>;
const packageJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const supervisorPackage = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'supervisor/package.json'), 'utf8')) as { bin: Record<string, string> };
const runs = stages.flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === 'RUN'));

describe('Dockerfile', () => {
  it('passes dockerfilelint with no finding', () => {
    expect(dockerfilelint(PROJECT_ROOT, text)).toEqual([]);
  });

  it("is one that dockerfilelint would fault if it broke the linter's rules (the linter runs)", () => {
    const findings = dockerfilelint(PROJECT_ROOT, 'FROM node:latest\nRUN apt-get install curl\nADD . /app\n');
    expect(findings.map((finding) => finding.rule)).toEqual(expect.arrayContaining(['latest_tag', 'apt-get_missing_param']));
  });

  it('builds in one stage and runs from another, on base images pinned to a full version (never latest)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = new Set(stages.map((stage) => stage.name));
    for (const stage of stages) {
      if (names.has(stage.base)) continue;
      // hadolint DL3006/DL3007: a tag, not latest; here a full Node version.
      expect(stage.base, `line ${stage.from.line}`).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
    }
    expect(final.instructions.some((instruction) => instruction.keyword === 'COPY' && /--from=/.test(instruction.args))).toBe(true);
  });

  it('installs with npm ci from the lockfile, production dependencies only in the final stage', () => {
    for (const run of runs) expect(run.args, `line ${run.line}`).not.toMatch(/\bnpm (install|i)\b/);
    const finalInstall = finalOf('RUN').find((run) => /\bnpm ci\b/.test(run.args));
    expect(finalInstall?.args).toMatch(/--omit=dev\b/);
    for (const stage of stages) {
      const copiesLockfile = stage.instructions.some((instruction) => instruction.keyword === 'COPY' && /\bpackage-lock\.json\b/.test(instruction.args));
      if (stage.instructions.some((instruction) => /\bnpm ci\b/.test(instruction.args))) expect(copiesLockfile).toBe(true);
    }
  });

  it("installs Debian packages as hadolint asks: -y, --no-install-recommends, the lists removed in the same layer", () => {
    for (const run of runs.filter((instruction) => /apt-get install/.test(instruction.args))) {
      expect(run.args).toMatch(/apt-get install -y --no-install-recommends /);
      expect(run.args).toMatch(/apt-get update/);
      expect(run.args).toMatch(/rm -rf \/var\/lib\/apt\/lists\/\*/);
    }
    // DL3020: COPY, never ADD, for files of the context.
    expect(stages.flatMap((stage) => stage.instructions).filter((instruction) => instruction.keyword === 'ADD')).toEqual([]);
  });

  it('runs as an unprivileged user, with tini as PID 1 in front of the supervisor, stopped by SIGTERM', () => {
    const users = finalOf('USER');
    expect(users.at(-1)?.args).toMatch(/^(node|[1-9]\d*)$/);
    const entrypoint = execForm(finalOf('ENTRYPOINT').at(-1)?.args ?? '');
    // -s: a child subreaper where it is not PID 1 (docker run --init), so that it still reaps the orphans.
    expect(entrypoint).toEqual(['tini', '-s', '--']);
    expect(finalOf('STOPSIGNAL').at(-1)?.args).toBe('SIGTERM');
    // tini is installed in the final stage, where it runs.
    expect(finalOf('RUN').some((run) => /apt-get install [^&]*\btini\b/.test(run.args))).toBe(true);
    // The user comes before the command: nothing of the app runs as root.
    const lastUserLine = users.at(-1)?.line ?? Infinity;
    expect(lastUserLine).toBeLessThan(finalOf('CMD').at(-1)?.line ?? 0);
  });

  it("starts the supervisor's own bin with node, no npm or shell in between, so that SIGTERM reaches it", () => {
    const command = execForm(finalOf('CMD').at(-1)?.args ?? '');
    expect(command).toEqual(['node', `supervisor/${supervisorPackage.bin['health-gate']?.replace(/^\.\//, '')}`]);
  });

  it("checks health with /health/live, or has none and says why", () => {
    const healthcheck = finalOf('HEALTHCHECK').at(-1);
    if (healthcheck) {
      expect(healthcheck.args).toMatch(/\/health\/live\b/);
    } else {
      expect(text).toMatch(/^# No HEALTHCHECK: .+/m);
    }
  });

  it("sets the board app's npm start defaults, and the supervisor accepts the image's environment for production", () => {
    const defaults = withStartScriptDefaults(packageJson.scripts.start ?? '', {});
    expect(imageEnv.APP_COMMAND).toBe(defaults.APP_COMMAND);
    expect(imageEnv.REQUIRED_TABLES).toBe(defaults.REQUIRED_TABLES);
    const config = loadConfig({ ...imageEnv, DATABASE_URL: 'postgres://user:placeholder@db.example/app' }, PROJECT_ROOT);
    expect(config.isProduction).toBe(true);
    expect(config.host).toBe('0.0.0.0');
    expect(finalOf('EXPOSE').at(-1)?.args).toBe(String(config.port));
  });

  it('copies files that exist: the manifests from the context (not ignored), the rest from a build of this repository', () => {
    const ignored = readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const stage of stages) {
      for (const copy of stage.instructions.filter((instruction) => instruction.keyword === 'COPY')) {
        const words = copy.args.split(/\s+/);
        const fromBuild = words.some((word) => word.startsWith('--from='));
        const sources = words.filter((word) => !word.startsWith('--')).slice(0, -1);
        for (const source of sources) {
          if (source === '.') continue;
          // The build stage works in /app, which is this repository once built (npm test builds it first).
          const relative = fromBuild ? path.posix.relative('/app', source) : source;
          expect(existsSync(path.join(PROJECT_ROOT, relative)), `line ${copy.line}: ${source}`).toBe(true);
          if (!fromBuild) expect(ignored, `line ${copy.line}: ${source} is in .dockerignore`).not.toContain(source.split('/')[0]);
        }
      }
    }
    // What APP_COMMAND and MIGRATIONS_DIR point at is among the files copied into the final stage.
    const copied = finalOf('COPY').map((copy) => copy.args.split(/\s+/).at(-1));
    expect(copied).toEqual(expect.arrayContaining(['dist/app', 'migrations', 'app/public', 'supervisor/bin', 'supervisor/dist']));
  });
});
