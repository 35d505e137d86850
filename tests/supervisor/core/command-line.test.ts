import { describe, expect, it } from 'vitest';
import { helpText, parseCommandLine } from '../../../supervisor/core/command-line.js';
import { SETTINGS, flagName } from '../../../supervisor/core/settings.js';

describe('the command line', () => {
  it('turns every flag into its setting and the words after -- into the app command', () => {
    const line = parseCommandLine(['--port', '8080', '--required-tables=users,public.orders', '--', 'node', 'server.js']);
    expect(line).toEqual({ kind: 'run', flags: { PORT: '8080', REQUIRED_TABLES: 'users,public.orders', APP_COMMAND: 'node server.js' } });
  });

  it('quotes words after -- so that the shell passes them on unchanged, and takes a single one as a command line', () => {
    expect(parseCommandLine(['--', 'node', 'my app.js', "it's"])).toEqual({ kind: 'run', flags: { APP_COMMAND: `node 'my app.js' 'it'\\''s'` } });
    expect(parseCommandLine(['--', 'npm run serve && echo done'])).toEqual({ kind: 'run', flags: { APP_COMMAND: 'npm run serve && echo done' } });
    expect(parseCommandLine([])).toEqual({ kind: 'run', flags: {} });
  });

  it('leaves the app its own flags after --', () => {
    expect(parseCommandLine(['--', 'node', 'server.js', '--port', '3000', '--help'])).toEqual({
      kind: 'run',
      flags: { APP_COMMAND: 'node server.js --port 3000 --help' },
    });
  });

  it('has --help, --version and the migrate and reload subcommands', () => {
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['-h'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['migrate', 'up', '--to', '0002_x'])).toEqual({ kind: 'migrate', args: ['up', '--to', '0002_x'] });
    expect(parseCommandLine(['reload', '--port', '8080'])).toEqual({ kind: 'reload', flags: { PORT: '8080' } });
    expect(parseCommandLine(['reload'])).toEqual({ kind: 'reload', flags: {} });
  });

  it.each([
    [['--prot', '80'], 'Unknown option --prot; did you mean --port?'],
    [['--requred-tables', 'users', '--', 'node', 'server.js'], 'Unknown option --requred-tables; did you mean --required-tables?'],
    [['--REQUIRED_TABLES', 'users'], 'Unknown option --REQUIRED_TABLES; did you mean --required-tables?'],
    [['--app-health-pth', '/healthz'], 'Unknown option --app-health-pth; did you mean --app-health-path?'],
    [['--app-health', '/healthz'], 'Unknown option --app-health'], // the start of four options: no guess
    [['--colour'], 'Unknown option --colour'],
    [['migrat', 'status'], 'Unknown command "migrat"; did you mean "migrate"?'],
    [['relaod'], 'Unknown command "relaod"; did you mean "reload"?'],
    [['reload', 'now'], 'reload takes only options, got "now"'],
  ])('refuses %j with SUP_ERR_USAGE saying what was meant', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(expect.objectContaining({ code: 'SUP_ERR_USAGE', message }));
  });

  it.each([
    [['node', 'server.js'], 'health-gate -- node server.js'],
    [['--port', '3000', 'node', 'server.js', '--verbose'], 'health-gate --port 3000 -- node server.js --verbose'],
    [['--required-tables', 'users', 'npm run serve'], "health-gate --required-tables users -- 'npm run serve'"],
  ])('says where -- goes when the app command %j comes without it', (argv, fixed) => {
    expect(() => parseCommandLine(argv)).toThrow(
      expect.objectContaining({ code: 'SUP_ERR_USAGE', message: expect.stringMatching(/looks like the app's command: put -- before it$/), hint: fixed }),
    );
    // The fix as given parses.
    expect(parseCommandLine(fixed.split(' ').slice(1).filter((word) => !word.startsWith("'") && !word.endsWith("'")))).toMatchObject({ kind: 'run' });
  });

  it("keeps parseArgs's own words for a missing value", () => {
    expect(() => parseCommandLine(['--port'])).toThrow(expect.objectContaining({ code: 'SUP_ERR_USAGE', message: expect.stringContaining("'--port <value>' argument missing") }));
  });

  it('lists every setting in --help with its flag, variable and default', () => {
    const help = helpText('1.2.3');
    expect(help).toContain('health-gate 1.2.3');
    for (const setting of SETTINGS) {
      expect(help).toMatch(new RegExp(`--${flagName(setting.env)} <value>\\s+${setting.env} \\(default: `));
    }
    expect(help).toMatch(/--required-tables <value>\s+REQUIRED_TABLES \(default: none\)/);
    expect(help).toMatch(/--port <value>\s+PORT \(default: 10000\)/);
  });
});
