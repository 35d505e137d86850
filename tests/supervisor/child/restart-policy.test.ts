import { describe, expect, it } from 'vitest';
import { createRestartPolicy } from '../../../supervisor/child/restart-policy.js';

describe('restart policy', () => {
  it('backs off exponentially and gives up past the limit within the window', () => {
    const now = 0;
    const policy = createRestartPolicy({ limit: 3, windowMs: 60_000, backoffMs: 500, maxBackoffMs: 1_500, now: () => now });
    expect(policy.recordCrash()).toEqual({ restart: true, delayMs: 500, recentCrashes: 1 });
    expect(policy.recordCrash()).toEqual({ restart: true, delayMs: 1_000, recentCrashes: 2 });
    expect(policy.recordCrash()).toEqual({ restart: true, delayMs: 1_500, recentCrashes: 3 });
    expect(policy.recordCrash()).toEqual({ restart: false, recentCrashes: 4 });
  });

  it('forgets crashes older than the window', () => {
    let now = 0;
    const policy = createRestartPolicy({ limit: 1, windowMs: 10_000, backoffMs: 100, now: () => now });
    expect(policy.recordCrash().restart).toBe(true);
    now = 10_001;
    expect(policy.recordCrash()).toEqual({ restart: true, delayMs: 100, recentCrashes: 1 });
  });
});
