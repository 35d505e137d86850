// The young generation stays at its size once keepYoungGenerationSmall() was called, under an allocation pattern
// that makes V8 grow it otherwise (a relay's: many short-lived objects). Run in fresh processes: the flag is
// process-wide. A Node whose V8 no longer knows the flag fails here by name.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../../supervisor/dist/core/young-generation.js', import.meta.url));

// Prints the young generation's size after allocating ~3 million short-lived objects.
const script = (keepSmall: boolean): string => `
  import v8 from 'node:v8';
  import { keepYoungGenerationSmall } from ${JSON.stringify(MODULE)};
  if (${keepSmall}) keepYoungGenerationSmall();
  let recent = [];
  for (let i = 0; i < 3e6; i++) { recent.push({ i, text: 'x' + i }); if (recent.length > 20000) recent = []; }
  const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  process.stdout.write(String(newSpace.space_size));
`;

const youngGenerationAfterLoad = (keepSmall: boolean): number =>
  Number(execFileSync(process.execPath, ['--input-type=module', '-e', script(keepSmall)], { encoding: 'utf8' }));

describe('keepYoungGenerationSmall', () => {
  it("uses a flag this Node's V8 knows", () => {
    expect(execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8' })).toContain('--semi-space-growth-factor ');
  });

  it('keeps the young generation from growing under a load of short-lived objects', () => {
    const grown = youngGenerationAfterLoad(false);
    const kept = youngGenerationAfterLoad(true);
    expect(kept).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(grown).toBeGreaterThan(kept);
  });
});
