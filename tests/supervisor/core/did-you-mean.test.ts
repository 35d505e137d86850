import { describe, expect, it } from 'vitest';
import { closest, findRefusal } from '../../../supervisor/core/did-you-mean.js';

const FLAGS = ['port', 'host', 'required-tables', 'migrations-dir', 'metrics-port', 'metrics-host', 'app-health-path', 'app-health-interval-ms'];

describe('closest', () => {
  it.each([
    ['prot', 'port'], // two letters swapped
    ['requred-tables', 'required-tables'], // one left out
    ['migrations-dri', 'migrations-dir'],
    ['REQUIRED_TABLES', 'required-tables'], // the variable's spelling
    ['--Migrations_Dir', 'migrations-dir'],
    ['app-health-p', 'app-health-path'], // the start of one option only
    ['metrics-prot', 'metrics-port'],
  ])('takes %s for %s', (given, meant) => {
    expect(closest(given, FLAGS)).toBe(meant);
  });

  it.each([['colour'], ['metrics'], ['app-health'], ['x'], ['']])('suggests nothing for %j, too far from any or the start of several', (given) => {
    // `metrics` begins two options and is 5 edits from the nearest: a guess would be a coin toss.
    expect(closest(given, FLAGS)).toBeUndefined();
  });
});

describe('findRefusal', () => {
  const options = { port: { type: 'string' as const }, help: { type: 'boolean' as const, short: 'h' } };

  it('names the first unknown option with the one it most likely is', () => {
    expect(findRefusal(['--port', '80', '--hepl'], options)).toEqual({ kind: 'unknown-option', given: '--hepl', suggestion: '--help' });
    expect(findRefusal(['-x'], options)).toEqual({ kind: 'unknown-option', given: '-x', suggestion: undefined });
  });

  it("finds the first stray word past the options' values, unless words are allowed", () => {
    expect(findRefusal(['--port', '80', 'node', 'server.js'], options)).toEqual({ kind: 'unexpected-word', given: 'node', index: 2 });
    expect(findRefusal(['-h', 'node'], options)).toEqual({ kind: 'unexpected-word', given: 'node', index: 1 });
    expect(findRefusal(['NAME', '--prot', '1'], options, true)).toEqual({ kind: 'unknown-option', given: '--prot', suggestion: '--port' });
  });

  it('finds nothing when neither is the trouble', () => {
    expect(findRefusal(['--port'], options)).toBeUndefined();
  });
});
