// What startup and supervision report as they go; operations/metrics.ts counts it. main.ts hands an
// implementation down as an optional `metrics` option, so the stages never depend on the metrics module.

export interface StartupMetrics {
  databaseAttempt(outcome: 'success' | 'failure'): void;
  migrationApplied(name: string, durationMs: number): void;
  appRestarted(): void;
}
