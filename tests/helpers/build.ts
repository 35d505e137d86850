// Builds both packages before any test file runs: the process-level tests start the compiled supervisor
// (supervisor/dist) and app (dist), so `npx vitest run <file>` after an edit must test the edit, not the last build.
// `tsc -b` is incremental: with nothing changed it only compares time stamps with its build info (about a second).
// The supervisor's start path is then bundled again (supervisor/build.mjs, esbuild, well under a second) when a
// source is newer than the bundle, as `npm run build` does: tsc rewrites the files the bundle replaces, and the
// bundle holds every module it imports. An up-to-date bundle is left alone, so that two suites started at once
// (CI runs Node 22 and 24 side by side) never rewrite files that the other one's processes are loading.
// The build info lives beside each tsconfig, not in dist/, so a dist/ deleted by hand is built again with --force.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from './supervisor-process.js';

const PROJECTS = ['supervisor/tsconfig.json', 'tsconfig.build.json'];
const ENTRY_POINTS = ['supervisor/dist/cli.js', 'dist/app/server.js'];
const BUNDLE = 'supervisor/build.mjs';
// Written by the bundler only (tsc writes no source maps): its age is the bundle's.
const BUNDLE_MARK = 'supervisor/dist/cli.js.map';
const BUILD_TIMEOUT_MS = 300_000;

function bundleIsStale(): boolean {
  const mark = path.join(PROJECT_ROOT, BUNDLE_MARK);
  if (!existsSync(mark)) return true;
  const bundledAt = statSync(mark).mtimeMs;
  const sources = readdirSync(path.join(PROJECT_ROOT, 'supervisor'), { recursive: true, encoding: 'utf8' }).filter(
    (file) => /\.(ts|mjs)$/.test(file) && !file.startsWith('dist') && !file.startsWith('node_modules'),
  );
  return sources.some((file) => statSync(path.join(PROJECT_ROOT, 'supervisor', file)).mtimeMs > bundledAt);
}

export default async function build(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const force = ENTRY_POINTS.some((file) => !existsSync(path.join(PROJECT_ROOT, file))) ? ['--force'] : [];
  const startedAt = performance.now();
  let bundled = false;
  try {
    const options = { cwd: PROJECT_ROOT, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 };
    await promisify(execFile)(process.execPath, [tsc, '-b', ...force, ...PROJECTS], options);
    if (force.length > 0 || bundleIsStale()) {
      await promisify(execFile)(process.execPath, [BUNDLE], options);
      bundled = true;
    }
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; killed?: boolean };
    const why = failed.killed ? `still running after ${BUILD_TIMEOUT_MS} ms` : `${failed.stdout ?? ''}${failed.stderr ?? ''}`.trim();
    throw new Error(`The build before the tests failed (tsc -b ${PROJECTS.join(' ')}, then ${BUNDLE}):\n${why}`, { cause: error });
  }
  process.stderr.write(`tests: built ${PROJECTS.join(' and ')} (tsc -b${force.length > 0 ? ' --force' : ''})${bundled ? ' and bundled the start path' : ''} in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
}
