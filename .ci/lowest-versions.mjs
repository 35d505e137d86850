// The supervisor's tests with each of its dependencies at the lowest version its range in supervisor/package.json
// allows (pg ^8.11.0 → 8.11.0), as a project that pins such a version gets it. The root's lockfile pins newer
// versions, so `npm test` alone never runs them.
//
// In a scratch copy of this checkout (the files git tracks or would track, as they are on disk), each range of
// the supervisor's `dependencies` and `optionalDependencies` becomes its lowest version, exactly; npm install
// then resolves those (nested under supervisor/node_modules where the root pins another version of the same
// package, as npm does in a user's project) and builds both packages; vitest runs tests/supervisor there.
// tests/package does not apply: the tarball it installs resolves the ranges afresh, to their newest versions.
//
// Usage: node .ci/lowest-versions.mjs [vitest arguments…] (default: tests/supervisor). It runs on the Node that
// runs it, against the PostgreSQL that the suite would pick (see CONTRIBUTING.md), and exits with vitest's status.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const TEST_TIMEOUT_MS = 20 * 60_000;

/** The lowest version a range allows, for the forms the supervisor uses (`^1.2.3`, `~1.2.3`, `>=1.2.3`, `1.2.3`). */
function lowestOf(name, range) {
  const match = /^(?:\^|~|>=)?\s*(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(range.trim());
  if (!match) throw new Error(`Expected the range of ${name} in supervisor/package.json to be ^x.y.z, ~x.y.z or >=x.y.z, got \`${range}\``);
  return match[1];
}

function run(command, args, options) {
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return { status: result.status ?? 1, seconds: Math.round((performance.now() - started) / 1000) };
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'lowest-versions-'));
// As root an embedded PostgreSQL runs as the `postgres` user, which must reach its binaries in node_modules.
chmodSync(scratch, 0o755);
try {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
    // A tracked file deleted on disk is left out, as in the checkout.
    try {
      cpSync(path.join(root, file), path.join(scratch, file), { verbatimSymlinks: true });
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
    }
  }

  const manifestFile = path.join(scratch, 'supervisor/package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const lowest = [];
  for (const field of ['dependencies', 'optionalDependencies']) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      manifest[field][name] = lowestOf(name, range);
      lowest.push(`${name}@${manifest[field][name]}`);
    }
  }
  writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`== lowest versions in ${scratch}: ${lowest.join(' ')}`);

  const env = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const install = run('npm', ['install', '--prefer-offline'], { cwd: scratch, env, timeout: INSTALL_TIMEOUT_MS });
  if (install.status !== 0) throw new Error(`npm install with the lowest versions failed (exit ${install.status})`);
  // What the supervisor resolves: its own nested copy first, else the hoisted one.
  const installed = lowest.map((spec) => {
    const name = spec.slice(0, spec.lastIndexOf('@'));
    const file = ['supervisor/node_modules', 'node_modules'].map((dir) => path.join(scratch, dir, name, 'package.json')).find(existsSync);
    return `${name}@${file ? JSON.parse(readFileSync(file, 'utf8')).version : 'missing'}`;
  });
  console.log(`== installed in ${install.seconds} s: ${installed.join(' ')}`);
  const mismatched = installed.filter((spec, index) => spec !== lowest[index]);
  if (mismatched.length > 0) throw new Error(`npm installed other versions than the lowest: ${mismatched.join(' ')}`);

  const args = process.argv.slice(2);
  const tests = run('npx', ['vitest', 'run', ...(args.length > 0 ? args : ['tests/supervisor'])], { cwd: scratch, env, timeout: TEST_TIMEOUT_MS });
  console.log(`== lowest versions: tests ${tests.status === 0 ? 'passed' : `failed (exit ${tests.status})`} in ${tests.seconds} s`);
  process.exitCode = tests.status;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
