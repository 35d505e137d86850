// The rule for tests that need a program of the system: skipped with one line where it is missing, a failure
// where REQUIRE_SYSTEM_TOOLS=1 (CI) says it must be there.
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findSystemTool, type SystemTool } from './system-tool.js';

const MISSING: SystemTool = {
  name: 'Frobnicator',
  command: 'health-gate-test-frobnicator',
  pathVariable: 'FROBNICATOR_PATH',
  usualFolders: ['/opt/frobnicator/bin'],
  install: '`apt-get install frobnicator`',
};
const NODE: SystemTool = { ...MISSING, name: 'Node.js', command: path.basename(process.execPath), usualFolders: [] };

function stderrLines(): string[] {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  return written;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a test that needs a program of the system', () => {
  it('gets its path from the variable, else from PATH, and prints nothing', () => {
    const written = stderrLines();
    expect(findSystemTool(NODE, 'the node tests', { FROBNICATOR_PATH: process.execPath })).toBe(process.execPath);
    const folder = path.dirname(process.execPath);
    expect(findSystemTool(NODE, 'the node tests', { PATH: `/nowhere${path.delimiter}${folder}` })).toBe(process.execPath);
    expect(written).toEqual([]);
  });

  it('is skipped where it is missing, with one line naming the tests, the file, why, and how to get it', () => {
    const written = stderrLines();
    expect(findSystemTool(MISSING, 'the frobnication tests', { PATH: path.dirname(process.execPath) })).toBeUndefined();
    expect(written).toEqual([
      'tests: skipped the frobnication tests in tests/helpers/system-tool.test.ts: Frobnicator not found (no ' +
        '`health-gate-test-frobnicator` in $FROBNICATOR_PATH, PATH, /opt/frobnicator/bin). To run them: `apt-get install frobnicator`\n',
    ]);
  });

  it('fails instead with REQUIRE_SYSTEM_TOOLS=1, as in CI', () => {
    const written = stderrLines();
    expect(() => findSystemTool(MISSING, 'the frobnication tests', { REQUIRE_SYSTEM_TOOLS: '1' })).toThrow(
      /^Cannot run the frobnication tests in tests\/helpers\/system-tool\.test\.ts: Frobnicator not found .*, and REQUIRE_SYSTEM_TOOLS=1 forbids a skip\. Install it: `apt-get install frobnicator`$/,
    );
    expect(written).toEqual([]);
  });

  it('refuses a REQUIRE_SYSTEM_TOOLS that is neither 1 nor unset, rather than skip quietly', () => {
    expect(() => findSystemTool(MISSING, 'the frobnication tests', { REQUIRE_SYSTEM_TOOLS: 'true' })).toThrow(
      'Expected `REQUIRE_SYSTEM_TOOLS` to be 1, 0 or unset, got `true`',
    );
  });
});
