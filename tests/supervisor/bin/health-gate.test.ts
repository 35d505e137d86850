// The bin sets a V8 flag at run time (bin/health-gate.js): a Node whose V8 no longer knows it would leave the young
// generation to grow with the machine again, silently. V8 lists the flags it knows.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const BIN = readFileSync(new URL('../../../supervisor/bin/health-gate.js', import.meta.url), 'utf8');

describe('bin/health-gate.js', () => {
  it('sets only V8 flags that this Node knows', () => {
    const flags = [...BIN.matchAll(/setFlagsFromString\('(--[a-z-]+)/g)].map((match) => match[1]);
    expect(flags).toEqual(['--semi-space-growth-factor']);
    const known = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' });
    for (const flag of flags) expect(known).toContain(`${flag} `);
  });
});
