#!/usr/bin/env node
// The start command: read the configuration, set up logging, run the supervisor.
import { loadConfig } from './config.js';
import { ErrorCodes, ExitCodes, isSupervisorError } from './errors.js';
import { createLogging } from './logger.js';
import { runSupervisor } from './main.js';
import { passwordOf, redactUrlCredentials } from './redact.js';

let config;
try {
  config = loadConfig();
} catch (error) {
  // Before logging exists: one plain, readable message (the config loader never echoes secrets).
  const code = isSupervisorError(error) ? error.code : ErrorCodes.UNEXPECTED;
  const hint = isSupervisorError(error) && error.hint ? `\n${error.hint}` : '';
  process.stderr.write(`${code}: ${redactUrlCredentials((error as Error).message)}${hint}\n`);
  process.exit(ExitCodes.CONFIG);
}

const logging = await createLogging({
  level: config.logLevel,
  format: config.logFormat,
  isProduction: config.isProduction,
  secrets: [config.databaseUrl, passwordOf(config.databaseUrl), config.metricsToken],
});

await runSupervisor({ config, logging, exit: (code) => process.exit(code) });
