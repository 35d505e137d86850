// `health-gate migrate <command>`: the supervisor's migrator for people, CI jobs and a platform's pre-deploy
// step. Results go to stdout, progress and errors (`CODE: message` and a hint) to stderr, secrets to neither.
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { type LogLevel, type MigrateConfig, loadMigrateConfigWithFlags, loadMigrationsDirWithFlags, ownDatabaseUrl } from '../core/config.js';
import { type OwnConnection, connectionOptions, describeTarget, requireDirectSession } from '../database/connection.js';
import { permanentFailure } from '../database/wait.js';
import { ErrorCodes, ExitCodes, SupervisorError, exitCodeFor, isSupervisorError } from '../core/errors.js';
import { type CommandResult, lintResult, runDatabaseCommand, selectForLint } from './commands.js';
import { type CommandName, type CommandOptions, parseCommandLine } from './usage.js';
import { readMigrationFiles } from '../migrations/files.js';
import { createMigrationFile } from '../migrations/scaffold.js';
import { createScrubber, passwordOf, redactUrlCredentials } from '../core/redact.js';
import { readSequelizeMap } from '../migrations/sequelize-adoption.js';

let scrub: (text: string) => string = redactUrlCredentials;
const out = (text: string): void => void process.stdout.write(`${scrub(text)}\n`);
const err = (text: string): void => void process.stderr.write(`${scrub(text)}\n`);

// The migrator's log events as plain lines on stderr: "applied 0001_create_messages".
function createCliLogger(level: LogLevel): Logger {
  return pino(
    { level, base: undefined, timestamp: false },
    {
      write(chunk: string) {
        const { level: value, msg } = JSON.parse(chunk) as { level: number; msg: string };
        err(`${value >= 50 ? 'error: ' : value >= 40 ? 'warning: ' : ''}${msg}`);
      },
    },
  );
}

// DIRECT_URL when set (the CLI does the supervisor's own work), else DATABASE_URL.
async function connect(config: MigrateConfig): Promise<pg.Client> {
  const url = ownDatabaseUrl(config);
  const variable = config.directUrl ? 'DIRECT_URL' : 'DATABASE_URL';
  const client = new pg.Client({ ...connectionOptions(url, config.dbConnectTimeoutMs), application_name: 'migrate-cli' });
  // A dropped connection also fails the query under way, which reports it; this only keeps it from crashing.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    const target = describeTarget(url);
    throw (
      permanentFailure(error, url, variable) ??
      new SupervisorError(ErrorCodes.DB_UNAVAILABLE, `Cannot connect to Postgres at ${target.host}: ${(error as Error).message}`, {
        cause: error,
        hint: `Check that the database is running and reachable from here, and ${variable}.`,
      })
    );
  }
  return client;
}

async function runCommand(command: CommandName, options: CommandOptions): Promise<CommandResult> {
  if (command === 'create') {
    const file = await createMigrationFile(loadMigrationsDirWithFlags(options.settings), options.name ?? '');
    return { exitCode: ExitCodes.OK, text: `Created ${file}: write its up (and down) SQL before it is applied.` };
  }
  if (command === 'lint' && (options.all || options.name !== undefined)) {
    const files = selectForLint(await readMigrationFiles(loadMigrationsDirWithFlags(options.settings)), options.name);
    return lintResult(files, options.all ? `${files.length} migration${files.length === 1 ? '' : 's'}` : `1 migration (${files[0]?.fileName ?? ''})`);
  }
  const config = loadMigrateConfigWithFlags(options.settings);
  scrub = createScrubber([config.databaseUrl, passwordOf(config.databaseUrl), config.directUrl, passwordOf(config.directUrl)]);
  const [files, sequelizeMap] = await Promise.all([readMigrationFiles(config.migrationsDir), readSequelizeMap(config.migrationsDir)]);
  const client = await connect(config);
  // DIRECT_URL says that the connection is direct: nothing to check then.
  const checkSession = config.directUrl ? undefined : () => requireDirectSession(client, 'A migration outside a transaction (-- migrate:no-transaction)');
  const openLockConnection = async (): Promise<OwnConnection> => {
    const lockClient = await connect(config);
    return { query: lockClient.query.bind(lockClient) as OwnConnection['query'], close: () => lockClient.end() };
  };
  try {
    const target = describeTarget(ownDatabaseUrl(config));
    return await runDatabaseCommand(command, {
      config,
      client,
      openLockConnection,
      checkSession,
      files,
      sequelizeMap,
      connection: connectionOptions(ownDatabaseUrl(config), config.dbConnectTimeoutMs),
      logger: createCliLogger(config.logLevel),
      target: `${target.user}@${target.host}/${target.database}`,
    }, options);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs one migrate command; resolves with the exit status. */
export async function runMigrateCli(argv: readonly string[]): Promise<number> {
  try {
    const commandLine = parseCommandLine(argv);
    if (commandLine.kind === 'help') {
      out(commandLine.text);
      return ExitCodes.OK;
    }
    const result = await runCommand(commandLine.command, commandLine.options);
    out(commandLine.options.json && result.json !== undefined ? JSON.stringify(result.json, null, 2) : result.text);
    return result.exitCode;
  } catch (error) {
    const known = isSupervisorError(error)
      ? error
      : new SupervisorError(ErrorCodes.UNEXPECTED, (error as Error).message ?? String(error), { cause: error, hint: 'This is a bug: report it with the message above.' });
    err(`${known.code}: ${known.message}${known.hint ? `\n${known.hint}` : ''}`);
    return exitCodeFor(known);
  }
}

