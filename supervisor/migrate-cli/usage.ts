// The migrate CLI's commands, options, help texts and exit statuses, and the parsing of its command line.
import { parseArgs } from 'node:util';
import { closest, findRefusal, unknownOptionMessage } from '../core/did-you-mean.js';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import { SETTINGS, flagName } from '../core/settings.js';

export type CommandName = 'status' | 'verify' | 'up' | 'down' | 'baseline' | 'adopt-sequelize' | 'create' | 'lint';

/** The parsed options of one command; each command reads only its own. */
export interface CommandOptions {
  readonly json: boolean;
  readonly to: string | undefined;
  readonly step: number | undefined;
  /** `create`'s NAME, or the one migration `lint` reads. */
  readonly name: string | undefined;
  /** `lint --all`: every migration, not only the pending ones. */
  readonly all: boolean;
  /** The start command's setting flags given (`--required-tables users`), by variable name: they win over the variables. */
  readonly settings: Readonly<Record<string, string>>;
}

// Every flag of the start command, so that a pre-deploy step can say what the start says; the migrate CLI uses
// those of the migrations and the database, and ignores the rest as it ignores their variables.
const SETTING_FLAGS = Object.fromEntries(SETTINGS.map((setting) => [flagName(setting.env), { type: 'string' as const }]));

export type CommandLine =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'command'; readonly command: CommandName; readonly options: CommandOptions };

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly label: string;
  readonly description: string;
}

interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  readonly description: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** `true`: exactly one NAME; `'optional'`: at most one. */
  readonly takesName?: boolean | 'optional';
}

const JSON_OPTION: OptionSpec = { type: 'boolean', label: '--json', description: 'print the result as JSON on stdout' };

const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  status: {
    usage: 'status [--json]',
    summary: 'applied migrations (when, how long, checksum ok?) and pending ones',
    description:
      'Lists every applied migration with the time it was applied, how long it took and whether its file\n' +
      'still has the recorded checksum, then the pending ones (marked when SequelizeMeta accounts for them,\n' +
      'or when they sort before the last applied one, which `up` refuses). Changes nothing and takes no lock.',
    options: { json: JSON_OPTION },
  },
  verify: {
    usage: 'verify [--json]',
    summary: 'exit 0 only if nothing is pending, no checksum differs and REQUIRED_TABLES exist',
    description:
      'Checks that the database is ready for the migrations in MIGRATIONS_DIR: nothing pending, no applied\n' +
      'file changed since, every REQUIRED_TABLES entry present. Exit status 2 lists the problems.\n' +
      "Changes nothing and takes no lock: for a platform's pre-deploy step or a CI job.",
    options: { json: JSON_OPTION },
  },
  up: {
    usage: 'up [--to NAME]',
    summary: 'apply pending migrations (adopting sequelize-cli history first)',
    description:
      'Takes the migration lock, adopts the history in SequelizeMeta when sequelize-map.json maps it, then\n' +
      'applies the pending migrations in file order, each in its own transaction with its history row.\n' +
      'Refuses, before anything, a new file that sorts before the last applied migration.',
    options: { to: { type: 'string', label: '--to NAME', description: 'stop after this migration (it is applied)' } },
  },
  down: {
    usage: 'down [--step N | --to NAME]',
    summary: 'revert applied migrations with their down sections',
    description:
      'Takes the migration lock and reverts applied migrations, newest first, each with its\n' +
      '`-- migrate:down` section (or `down` function) in its own transaction with the deletion of its history row.\n' +
      'Refuses, before reverting anything, when one of them has no down section or no file.',
    options: {
      step: { type: 'string', label: '--step N', description: 'revert the N most recently applied migrations (default 1)' },
      to: { type: 'string', label: '--to NAME', description: 'revert every migration applied after NAME (NAME stays)' },
    },
  },
  baseline: {
    usage: 'baseline --to NAME',
    summary: 'record migrations up to NAME as applied, without running them',
    description:
      'For a database whose tables were made by hand or by another tool: records every pending migration\n' +
      'up to and including NAME as applied (with its checksum) without running it, in one transaction,\n' +
      'under the migration lock. Later migrations stay pending.',
    options: { to: { type: 'string', label: '--to NAME', description: 'the last migration to record (required)' } },
  },
  'adopt-sequelize': {
    usage: 'adopt-sequelize',
    summary: "import sequelize-cli's history (SequelizeMeta) through sequelize-map.json",
    description:
      'Records as applied, without running them, the migrations that sequelize-map.json in MIGRATIONS_DIR\n' +
      'maps to names recorded in the SequelizeMeta table; in one transaction, under the migration lock.\n' +
      "Running it again adopts nothing new. `up` and the supervisor's start do the same on their own.",
    options: {},
  },
  create: {
    usage: 'create NAME',
    summary: 'write the next migration file, in the format the folder already uses',
    description:
      'Writes the next migration in the format of the folder: MIGRATIONS_DIR/<next number>_NAME.sql with empty\n' +
      '`-- migrate:up` and `-- migrate:down` sections (also in an empty folder), <next number>_NAME.js (or the\n' +
      "extension in use) exporting up({ context }) and down, or sequelize-cli's <YYYYMMDDHHmmss>-NAME.js exporting\n" +
      'up(queryInterface, Sequelize) and down. Scripts throw until they are written. NAME uses letters, digits,\n' +
      '`_` and `-`. Needs no database.',
    options: {},
    takesName: true,
  },
  lint: {
    usage: 'lint [NAME | --all] [--json]',
    summary: 'flag migrations that would block a busy table or break the running release; exit 1 if any',
    description:
      'Lints the pending SQL migrations (or every one with --all, or the one named) with squawk: an index built\n' +
      'without CONCURRENTLY, a column type change, a NOT NULL column without a default, a constraint added without\n' +
      'NOT VALID, a column or table dropped or renamed… Prints file:line, the rule, why it is risky and the safe way,\n' +
      'and exits 1 when a finding is not accepted. Accept a reviewed risk with a comment above the statement:\n' +
      '`-- lint:accept <rule> [why]` (or `-- lint:accept-file <rule>` for the file). Never asks for the timeouts and\n' +
      'the transaction the supervisor gives every migration. JS/TS and sequelize-cli migrations are listed as not\n' +
      'linted. Pending needs DATABASE_URL; --all and NAME need no database.',
    options: { all: { type: 'boolean', label: '--all', description: 'every migration, not only the pending ones' }, json: JSON_OPTION },
    takesName: 'optional',
  },
};

const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

function usageError(message: string, hint = 'Run `health-gate migrate --help` for the commands and their options.'): SupervisorError {
  return new SupervisorError(ErrorCodes.USAGE, message, { hint });
}

/** The help for the whole CLI. */
export function generalHelp(): string {
  const width = Math.max(...COMMAND_NAMES.map((name) => name.length));
  return [
    'Usage: health-gate migrate <command> [options]',
    '',
    "The supervisor's own migrator, for people, CI jobs and a platform's pre-deploy step. It reads",
    'DATABASE_URL, MIGRATIONS_DIR, REQUIRED_TABLES, LOG_LEVEL and the MIGRATION_* timeouts as the',
    'supervisor does, and takes the same advisory lock to change anything.',
    '',
    'Commands:',
    ...COMMAND_NAMES.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name].summary}`),
    '',
    'Exit status: 0 done, 1 failed (the error code is printed), 2 verify found problems,',
    '64 wrong command line, 78 invalid configuration.',
    'Run `health-gate migrate <command> --help` for one command.',
  ].join('\n');
}

/** The help for one command. */
export function commandHelp(command: CommandName): string {
  const spec = COMMANDS[command];
  const options = [...Object.values(spec.options), { type: 'boolean', label: '-h, --help', description: 'show this help' }];
  const width = Math.max(...options.map((option) => option.label.length));
  return [
    `Usage: health-gate migrate ${spec.usage}`,
    '',
    spec.description,
    '',
    'Options:',
    ...options.map((option) => `  ${option.label.padEnd(width)}  ${option.description}`),
    '',
    "The start command's setting flags are taken too and win over their variables (--migrations-dir,",
    '--required-tables, --database-url, …; `health-gate --help` lists them).',
  ].join('\n');
}

function unknownCommand(given: string): SupervisorError {
  const meant = closest(given, COMMAND_NAMES);
  return usageError(`Unknown command "${given}"${meant === undefined ? '' : `; did you mean "${meant}"?`}`);
}

function isCommand(value: string | undefined): value is CommandName {
  return value !== undefined && (COMMAND_NAMES as string[]).includes(value);
}

/** Parses `<command> [options]`; throws SUP_ERR_USAGE with what is wrong. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined) throw usageError(`Expected a command: ${COMMAND_NAMES.join(', ')}`);
  if (first === '--help' || first === '-h') return { kind: 'help', text: generalHelp() };
  if (first === 'help') {
    if (rest[0] === undefined) return { kind: 'help', text: generalHelp() };
    if (isCommand(rest[0])) return { kind: 'help', text: commandHelp(rest[0]) };
    throw unknownCommand(rest[0]);
  }
  if (!isCommand(first)) throw unknownCommand(first);

  const spec = COMMANDS[first];
  const options = {
    ...SETTING_FLAGS,
    ...Object.fromEntries(Object.entries(spec.options).map(([name, option]) => [name, { type: option.type }])),
    help: { type: 'boolean' as const, short: 'h' },
  };
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true });
  } catch (error) {
    const refusal = findRefusal(rest, options, true);
    const message = refusal?.kind === 'unknown-option' ? unknownOptionMessage(refusal) : (error as Error).message;
    throw usageError(`${first}: ${message}`, `Run \`health-gate migrate ${first} --help\` for its options.`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: 'help', text: commandHelp(first) };
  return { kind: 'command', command: first, options: readOptions(first, values, parsed.positionals) };
}

function readOptions(command: CommandName, values: Record<string, string | boolean | undefined>, positionals: string[]): CommandOptions {
  const commandUsage = `Usage: health-gate migrate ${COMMANDS[command].usage}`;
  const takesName = COMMANDS[command].takesName;
  const expected = takesName === true ? 1 : 0;
  if (positionals.length !== expected && !(takesName === 'optional' && positionals.length <= 1)) {
    throw usageError(
      takesName === 'optional'
        ? `${command} takes at most one NAME, got "${positionals.join(' ')}"`
        : expected === 0
          ? `${command} takes no arguments, got "${positionals.join(' ')}"`
          : `${command} takes exactly one NAME`,
      commandUsage,
    );
  }
  const to = typeof values.to === 'string' ? values.to.replace(/\.sql$/, '') : undefined;
  let step: number | undefined;
  if (typeof values.step === 'string') {
    step = /^\d+$/.test(values.step) ? Number(values.step) : Number.NaN;
    if (!Number.isSafeInteger(step) || step < 1) throw usageError(`Expected --step to be a positive integer, got "${values.step}"`, commandUsage);
    if (to !== undefined) throw usageError('Give --step or --to, not both', commandUsage);
  }
  if (command === 'baseline' && to === undefined) throw usageError('baseline needs --to NAME: the last migration to record', commandUsage);
  if (to === '') throw usageError('Expected --to to name a migration', commandUsage);
  if (values.all === true && positionals.length > 0) throw usageError('Give NAME or --all, not both', commandUsage);
  const settings: Record<string, string> = {};
  for (const setting of SETTINGS) {
    const value = values[flagName(setting.env)];
    if (typeof value === 'string') settings[setting.env] = value;
  }
  return { json: values.json === true, to, step, name: positionals[0], all: values.all === true, settings };
}
