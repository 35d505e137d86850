// The young generation after keepYoungGenerationSmall(): shrunk to its initial size once the call's turn of the
// event loop is over, and kept there under an allocation pattern that makes V8 grow it otherwise (a relay's: many
// short-lived objects). Run in a fresh process: the flags are process-wide. A Node whose V8 no longer knows the
// flag, or no longer shrinks new space on such a collection, fails here by name.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../../supervisor/dist/core/young-generation.js', import.meta.url));
const MB = 1024 * 1024;

// Prints the young generation's size (bytes) after a load, after the call, and after the same load again.
const script = `
  import v8 from 'node:v8';
  import { setImmediate as nextTurn } from 'node:timers/promises';
  import { keepYoungGenerationSmall } from ${JSON.stringify(MODULE)};
  const youngGeneration = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
  const load = () => {
    let recent = [];
    for (let i = 0; i < 3e6; i++) { recent.push({ i, text: 'x' + i }); if (recent.length > 20000) recent = []; }
  };
  load();
  const grown = youngGeneration();
  keepYoungGenerationSmall();
  await nextTurn();
  await nextTurn();
  const shrunk = youngGeneration();
  load();
  process.stdout.write(JSON.stringify({ grown, shrunk, underLoad: youngGeneration() }));
`;

describe('keepYoungGenerationSmall', () => {
  it("uses a flag this Node's V8 knows", () => {
    expect(execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' })).toContain('--semi-space-growth-factor ');
  });

  it('shrinks a grown young generation and keeps it small under a load of short-lived objects', () => {
    const sizes = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<string, number>;
    expect(sizes.grown).toBeGreaterThan(4 * MB);
    expect(sizes.shrunk).toBeLessThanOrEqual(2 * MB);
    expect(sizes.underLoad).toBeLessThanOrEqual(4 * MB);
  });
});
