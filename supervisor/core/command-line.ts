// The start command's line: `health-gate [options] -- <app command…>`, `health-gate migrate …`, --help, --version.
// Every setting has a flag named after its variable; a flag wins over the variable.
import { parseArgs } from 'node:util';
import { type Refusal, closest, findRefusal, unknownOptionMessage } from './did-you-mean.js';
import { ErrorCodes, SupervisorError } from './errors.js';
import { SETTING_GROUPS, SETTINGS, flagName } from './settings.js';

export const COMMAND_NAME = 'health-gate';

export type CommandLine =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  /** The migrate CLI, with the arguments after `migrate`. */
  | { readonly kind: 'migrate'; readonly args: readonly string[] }
  /** `reload`: SIGHUP to the supervisor of the port the flags or the environment give. */
  | { readonly kind: 'reload'; readonly flags: Readonly<Record<string, string>> }
  /** Settings given as flags, by variable name (the app command after `--` as APP_COMMAND). */
  | { readonly kind: 'run'; readonly flags: Readonly<Record<string, string>> };

// A single argument after `--` is a shell command line as it stands (like APP_COMMAND); several are
// words, quoted so that the shell passes each on unchanged.
function appCommandOf(words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  if (words.length === 1) return words[0];
  return words.map(shellQuote).join(' ');
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** Parses the arguments after the command's name; throws SUP_ERR_USAGE for anything it does not know. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  if (argv[0] === 'migrate') return { kind: 'migrate', args: argv.slice(1) };
  const reload = argv[0] === 'reload';
  const rest = reload ? argv.slice(1) : argv;
  const separator = rest.indexOf('--');
  const own = separator === -1 ? rest : rest.slice(0, separator);
  const appWords = separator === -1 ? [] : rest.slice(separator + 1);

  const options = {
    ...Object.fromEntries(SETTINGS.map((setting) => [flagName(setting.env), { type: 'string' as const }])),
    help: { type: 'boolean' as const, short: 'h' },
    version: { type: 'boolean' as const, short: 'v' },
  };
  let parsed;
  try {
    parsed = parseArgs({ args: [...own], options, allowPositionals: false, strict: true });
  } catch (error) {
    throw usageError(rest, own, reload, findRefusal(own, options) ?? (error as Error).message);
  }
  const { help, version, ...values } = parsed.values as Record<string, string | boolean | undefined>;
  if (help) return { kind: 'help' };
  if (version) return { kind: 'version' };

  const flags: Record<string, string> = {};
  for (const setting of SETTINGS) {
    const value = values[flagName(setting.env)];
    if (typeof value === 'string') flags[setting.env] = value;
  }
  if (reload) return { kind: 'reload', flags };
  const appCommand = appCommandOf(appWords);
  if (appCommand !== undefined) flags.APP_COMMAND = appCommand;
  return { kind: 'run', flags };
}

const USAGE = `Usage: ${COMMAND_NAME} [options] -- <app command…>; \`${COMMAND_NAME} --help\` lists the options.`;
const SUBCOMMANDS = ['migrate', 'reload'];

// SUP_ERR_USAGE saying what was refused and what to type instead: the option meant, the command meant, or the
// app's command moved after `--` (the commonest slip: `health-gate node server.js`).
function usageError(rest: readonly string[], own: readonly string[], reload: boolean, refusal: Refusal | string): SupervisorError {
  if (typeof refusal === 'string') return new SupervisorError(ErrorCodes.USAGE, refusal, { hint: USAGE });
  if (refusal.kind === 'unknown-option') return new SupervisorError(ErrorCodes.USAGE, unknownOptionMessage(refusal), { hint: USAGE });
  const command = refusal.index === 0 && !reload ? closest(refusal.given, SUBCOMMANDS) : undefined;
  if (command !== undefined) {
    return new SupervisorError(ErrorCodes.USAGE, `Unknown command "${refusal.given}"; did you mean "${command}"?`, { hint: USAGE });
  }
  if (reload) return new SupervisorError(ErrorCodes.USAGE, `reload takes only options, got "${refusal.given}"`, { hint: `Usage: ${COMMAND_NAME} reload [--port <port>]` });
  const options = own.slice(0, refusal.index);
  const appCommand = [...own.slice(refusal.index), ...rest.slice(own.length + 1)].map(shellQuote).join(' ');
  return new SupervisorError(ErrorCodes.USAGE, `"${appCommand}" looks like the app's command: put -- before it`, {
    hint: `${COMMAND_NAME} ${[...options.map(shellQuote), '--', appCommand].join(' ')}`,
  });
}

/** `--help`: usage, then every setting with its flag, variable and default, by group. */
export function helpText(version: string): string {
  const lines = [
    `${COMMAND_NAME} ${version}: a health-gated supervisor for a Postgres-backed web app.`,
    'It opens the port at once (/health answers 503), waits for the database, runs the migrations under a lock,',
    "verifies the schema, starts the app on a private port and proxies to it once the app answers its health path.",
    '',
    'Usage:',
    `  ${COMMAND_NAME} [options] -- <app command…>     e.g. ${COMMAND_NAME} --required-tables users -- node server.js`,
    `  ${COMMAND_NAME} migrate <command> [options]     status, verify, up, down, baseline, create, lint (\`migrate --help\`)`,
    `  ${COMMAND_NAME} reload [--port <port>]          the running supervisor of that port (PORT) replaces its app, dropping no request`,
    `  ${COMMAND_NAME} --help | --version`,
    '',
    'Every option is also an environment variable (shown after it); an option wins over its variable.',
  ];
  const flagOf = (env: string): string => `  --${flagName(env)} <value>`;
  const width = Math.max(...SETTINGS.map((setting) => flagOf(setting.env).length)) + 2;
  for (const group of SETTING_GROUPS) {
    lines.push('', `${group.title}:`);
    for (const setting of group.settings) {
      const shownDefault = setting.default ?? setting.defaultText ?? 'none';
      lines.push(`${flagOf(setting.env).padEnd(width)}${setting.env} (default: ${shownDefault})`);
      lines.push(`      ${setting.help}`);
    }
  }
  lines.push('', 'Exit status: 0 after SIGTERM/SIGINT, 1 when the start fails or the app keeps crashing, 64 for a wrong command line, 78 for a wrong setting.');
  return lines.join('\n');
}
