// deploy/kubernetes against the Kubernetes API schema (kubernetes-models) with unknown keys refused, and against the
// supervisor's contract: probes, shutdown timing, memory from the measured RSS, the database URL from a Secret.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../supervisor/core/config.js';
import { PROJECT_ROOT } from '../render/blueprint.js';
import { imageEnvironment, SHUTDOWN_MARGIN_MS } from './dockerfile.js';
import { build, KUBERNETES_DIR, readKustomization, readYamlDocuments, validateManifest, type Manifest } from './kubernetes.js';
import { unknownKeys } from './strict-schema.js';

// docs/performance.md and docs/small-instance.md, Node 24: the supervisor under load, its migration helper on a
// first start, and the board app once ready (MB).
const SUPERVISOR_UNDER_LOAD_MB = 123;
const MIGRATION_HELPER_MB = 70;
const BOARD_APP_MB = 73;

const base = build(KUBERNETES_DIR);
const overlayDir = path.join(KUBERNETES_DIR, 'migrate-job');
const overlay = build(overlayDir);
const files = ['deployment.yaml', 'service.yaml', 'pdb.yaml', 'migrate-job/job.yaml'];

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are read as plain data, their shape is what the tests check */
const find = (manifests: Manifest[], kind: string): any => {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};
const deployment = find(base, 'Deployment');
const podSpec = deployment.spec.template.spec;
const container = podSpec.containers[0];
const envOf = (entries: { name: string; value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((entries ?? []).filter((entry) => entry.value !== undefined).map((entry) => [entry.name, entry.value as string]));
const PLACEHOLDER_URL = 'postgres://user:placeholder@db.example/app';
// What the supervisor reads in the pod: the image's environment under the container's.
const config = loadConfig({ ...imageEnvironment(), ...envOf(container.env), DATABASE_URL: PLACEHOLDER_URL }, PROJECT_ROOT);
const mebibytes = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`Write memory in Mi or Gi, got ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

describe('deploy/kubernetes against the Kubernetes API schema', () => {
  it.each(files)('%s is valid, with no key unknown to the schema', async (file) => {
    for (const manifest of readYamlDocuments(path.join(KUBERNETES_DIR, file))) expect(await validateManifest(manifest)).toEqual([]);
  });

  it('is valid as kubectl apply -k applies it, base and migration-Job overlay', async () => {
    for (const manifest of [...base, ...overlay]) expect(await validateManifest(manifest), `${manifest.kind} ${manifest.metadata.name}`).toEqual([]);
  });

  it('refuses a misspelt field, a missing required field and a wrong type (the check works)', async () => {
    const misspelt = structuredClone(deployment);
    misspelt.spec.template.spec.containers[0].readinesProbe = misspelt.spec.template.spec.containers[0].readinessProbe;
    delete misspelt.spec.template.spec.containers[0].readinessProbe;
    expect(await validateManifest(misspelt)).toEqual(['/spec/template/spec/containers/0/readinesProbe is not a field of apps/v1 Deployment']);

    const nameless = structuredClone(deployment);
    delete nameless.spec.template.spec.containers[0].name;
    expect((await validateManifest(nameless)).join('\n')).toMatch(/containers\/0 .*"missingProperty":"name"/);

    const wrongType = structuredClone(deployment);
    wrongType.spec.replicas = 'three';
    expect((await validateManifest(wrongType)).join('\n')).toMatch(/\/spec\/replicas/);

    expect(await validateManifest({ apiVersion: 'apps/v1', kind: 'Deploymnt', metadata: { name: 'x' } })).toEqual(['/ apps/v1 Deploymnt is not a kind of the Kubernetes API']);
  });

  it("has kustomizations that SchemaStore's kustomization schema accepts, with no unknown key", () => {
    const schema = JSON.parse(readFileSync(new URL('./schemas/kustomization.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    for (const dir of [KUBERNETES_DIR, overlayDir]) {
      const kustomization = readKustomization(dir);
      expect(validate(kustomization), JSON.stringify(validate.errors)).toBe(true);
      expect(unknownKeys(schema, kustomization)).toEqual([]);
    }
    expect(unknownKeys(schema, { ...readKustomization(KUBERNETES_DIR), resource: [] })).toEqual(['/resource']);
  });
});

describe('the Deployment', () => {
  it("probes readiness and startup on /health and liveness on /health/live, at the supervisor's port", () => {
    const port = container.ports.find((entry: { name: string }) => entry.name === 'http');
    expect(port.containerPort).toBe(config.port);
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    // /health/live answers 200 during startup too: as a readiness check it would send traffic too early.
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 'http' });
  });

  it('lets a first start wait for the database and start the app before the kubelet gives up on it', () => {
    const { periodSeconds, failureThreshold } = container.startupProbe;
    expect(periodSeconds * failureThreshold * 1000).toBeGreaterThanOrEqual(config.dbWaitTimeoutMs + config.appStartTimeoutMs);
    // Each check gets at least the 5 s that Render and Fly give one.
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) expect(probe.timeoutSeconds).toBeGreaterThanOrEqual(5);
  });

  it("gives preStop and the supervisor's whole shutdown time before the kubelet's SIGKILL", () => {
    const preStop: string[] = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).toBe('sleep');
    const preStopMs = Number(preStop[1]) * 1000;
    expect(preStopMs).toBeGreaterThan(0);
    expect(podSpec.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + config.drainTimeoutMs + config.appStopTimeoutMs + SHUTDOWN_MARGIN_MS);
  });

  it('requests the measured memory of the supervisor and the app, and limits it with room to spare', () => {
    const request = mebibytes(container.resources.requests.memory);
    const limit = mebibytes(container.resources.limits.memory);
    expect(request).toBeGreaterThanOrEqual(SUPERVISOR_UNDER_LOAD_MB + BOARD_APP_MB);
    expect(limit).toBeGreaterThanOrEqual(SUPERVISOR_UNDER_LOAD_MB + MIGRATION_HELPER_MB + BOARD_APP_MB);
    expect(limit).toBeGreaterThanOrEqual(request);
    expect(container.resources.requests.cpu).toBeDefined();
  });

  it('runs several replicas that migrate at start, replaced one ready pod at a time, kept up by a PodDisruptionBudget', () => {
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(config.migrateOnStart).toBe(true);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const labels = deployment.spec.template.metadata.labels;
    expect(labels).toMatchObject(deployment.spec.selector.matchLabels);
    const budget = find(base, 'PodDisruptionBudget');
    expect(labels).toMatchObject(budget.spec.selector.matchLabels);
    expect(budget.spec.maxUnavailable ?? deployment.spec.replicas - budget.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(budget.spec.maxUnavailable ?? deployment.spec.replicas - budget.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const service = find(base, 'Service');
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports.map((entry: { targetPort: unknown }) => entry.targetPort)).toEqual(['http']);
  });

  it('takes DATABASE_URL from a Secret and holds no secret of its own', () => {
    const databaseUrl = container.env.find((entry: { name: string }) => entry.name === 'DATABASE_URL');
    expect(databaseUrl.value).toBeUndefined();
    expect(databaseUrl.valueFrom.secretKeyRef).toMatchObject({ name: expect.any(String), key: expect.any(String) });
    expect(base.filter((manifest) => manifest.kind === 'Secret')).toEqual([]);
    expect(JSON.stringify([...base, ...overlay])).not.toMatch(/:\/\/[^/\s"]*@/);
  });

  it('runs as the image\'s unprivileged user with a read-only root file system and a writable /tmp', () => {
    expect(podSpec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });
});

describe('the migration-Job overlay', () => {
  const job = find(overlay, 'Job');
  const jobContainer = job.spec.template.spec.containers[0];
  const verifying = find(overlay, 'Deployment').spec.template.spec.containers[0];

  it('runs health-gate migrate up from the same image, and the replicas only verify', () => {
    expect(jobContainer.image).toBe(verifying.image);
    expect(jobContainer.command.slice(-2)).toEqual(['migrate', 'up']);
    expect(jobContainer.command).toContain('supervisor/bin/health-gate.js');
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(1);
    const verifyingConfig = loadConfig({ ...imageEnvironment(), ...envOf(verifying.env), DATABASE_URL: PLACEHOLDER_URL }, PROJECT_ROOT);
    expect(verifyingConfig.migrateOnStart).toBe(false);
    // The patch changed only that: the probes and the database link stay.
    expect(verifying.readinessProbe).toEqual(container.readinessProbe);
    expect(verifying.env.find((entry: { name: string }) => entry.name === 'DATABASE_URL')).toEqual(container.env.find((entry: { name: string }) => entry.name === 'DATABASE_URL'));
  });

  it('takes its database URL from a Secret too', () => {
    const databaseUrl = jobContainer.env.find((entry: { name: string }) => entry.name === 'DATABASE_URL');
    expect(databaseUrl.valueFrom.secretKeyRef.name).toEqual(expect.any(String));
  });
});
