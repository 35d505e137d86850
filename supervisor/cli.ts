#!/usr/bin/env node
// The `health-gate` command: read the command line and the settings, set up logging, run the supervisor
// (or the migrate CLI, `health-gate migrate …`).
import { readFileSync } from 'node:fs';
import { helpText, parseCommandLine, type CommandLine } from './core/command-line.js';
import { loadConfigWithFlags, loadPortWithFlags } from './core/config.js';
import { ErrorCodes, exitCodeFor, isSupervisorError } from './core/errors.js';
import { createLogging } from './core/logger.js';
import { passwordOf, redactUrlCredentials } from './core/redact.js';

// Before logging exists: one plain, readable message (the config loader never echoes secrets).
function exitWith(error: unknown): never {
  const code = isSupervisorError(error) ? error.code : ErrorCodes.UNEXPECTED;
  const hint = isSupervisorError(error) && error.hint ? `\n${error.hint}` : '';
  process.stderr.write(`${code}: ${redactUrlCredentials((error as Error).message)}${hint}\n`);
  process.exit(exitCodeFor(error));
}

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

let commandLine: CommandLine;
try {
  commandLine = parseCommandLine(process.argv.slice(2));
} catch (error) {
  exitWith(error);
}

if (commandLine.kind === 'help') {
  process.stdout.write(`${helpText(packageVersion())}\n`);
} else if (commandLine.kind === 'version') {
  process.stdout.write(`${packageVersion()}\n`);
} else if (commandLine.kind === 'reload') {
  const { reloadSupervisor } = await import('./operations/control-file.js');
  try {
    const port = loadPortWithFlags(commandLine.flags);
    process.stdout.write(`sent SIGHUP to the supervisor of port ${port} (pid ${reloadSupervisor(port)}): it starts a new app and switches to it\n`);
  } catch (error) {
    exitWith(error);
  }
} else if (commandLine.kind === 'migrate') {
  const { runMigrateCli } = await import('./migrate-cli/cli.js');
  process.exitCode = await runMigrateCli(commandLine.args);
} else {
  let config;
  try {
    config = loadConfigWithFlags(commandLine.flags);
  } catch (error) {
    exitWith(error);
  }
  const logging = await createLogging({
    level: config.logLevel,
    format: config.logFormat,
    isProduction: config.isProduction,
    processWarnings: true,
    secrets: [config.databaseUrl, passwordOf(config.databaseUrl), config.directUrl, passwordOf(config.directUrl), config.metricsToken],
  });
  // Loaded after the settings are known good, and before anything heavy: main.ts binds the port first.
  const { runSupervisor } = await import('./main.js');
  await runSupervisor({ config, logging, exit: (code) => process.exit(code) });
}
