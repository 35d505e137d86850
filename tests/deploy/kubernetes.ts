// The manifests under deploy/kubernetes as `kubectl apply -k` would send them (the kustomizations' resources, image
// overrides and patches this project uses), and their validation against the Kubernetes API schema of
// kubernetes-models with unknown keys refused (kubeconform --strict).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT } from '../render/blueprint.js';

export const KUBERNETES_DIR = path.join(PROJECT_ROOT, 'deploy/kubernetes');

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string } } & Record<string, unknown>;

interface Kustomization {
  readonly resources?: readonly string[];
  readonly patches?: readonly { readonly path: string }[];
  readonly images?: readonly { readonly name: string; readonly newName?: string; readonly newTag?: string }[];
}

export function readYamlDocuments(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
    return document.toJS() as unknown;
  });
}

export function readKustomization(dir: string): Kustomization {
  return readYamlDocuments(path.join(dir, 'kustomization.yaml'))[0] as Kustomization;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Strategic merge as kustomize applies it to what these patches touch: maps merge, lists of objects with a `name`
// merge by name (containers, env), other values are replaced.
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (isRecord(target) && isRecord(patch)) {
    const merged: Record<string, unknown> = { ...target };
    for (const [key, value] of Object.entries(patch)) merged[key] = key in target ? strategicMerge(target[key], value) : value;
    return merged;
  }
  if (Array.isArray(target) && Array.isArray(patch) && patch.every((item) => isRecord(item) && typeof item.name === 'string')) {
    const merged = target.map((item) => {
      const update = patch.find((candidate) => isRecord(item) && (candidate as Record<string, unknown>).name === item.name);
      return update ? strategicMerge(item, update) : item;
    });
    return [...merged, ...patch.filter((item) => !target.some((existing) => isRecord(existing) && existing.name === (item as Record<string, unknown>).name))];
  }
  return patch;
}

function setImages(value: unknown, images: Kustomization['images']): unknown {
  if (Array.isArray(value)) return value.map((item) => setImages(item, images));
  if (!isRecord(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const reference = key === 'image' && typeof item === 'string' ? item : undefined;
    const image = reference === undefined ? undefined : images?.find((entry) => reference === entry.name || reference.startsWith(`${entry.name}:`));
    result[key] = image && reference ? `${image.newName ?? image.name}:${image.newTag ?? reference.split(':')[1]}` : setImages(item, images);
  }
  return result;
}

/** What `kubectl apply -k <dir>` would apply. */
export function build(dir: string): Manifest[] {
  const kustomization = readKustomization(dir);
  let manifests: Manifest[] = [];
  for (const resource of kustomization.resources ?? []) {
    const target = path.join(dir, resource);
    manifests.push(...(resource.endsWith('.yaml') ? (readYamlDocuments(target) as Manifest[]) : build(target)));
  }
  for (const { path: patchPath } of kustomization.patches ?? []) {
    for (const patch of readYamlDocuments(path.join(dir, patchPath)) as Manifest[]) {
      const index = manifests.findIndex((manifest) => manifest.kind === patch.kind && manifest.metadata.name === patch.metadata.name);
      if (index < 0) throw new Error(`${patchPath}: no ${patch.kind} ${patch.metadata.name} to patch`);
      manifests[index] = strategicMerge(manifests[index], patch) as Manifest;
    }
  }
  manifests = manifests.map((manifest) => setImages(manifest, kustomization.images) as Manifest);
  return manifests;
}

type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; keyword: string; params: unknown }[] | null };

// apps/v1 Deployment → IoK8sApiAppsV1Deployment; v1 Service → IoK8sApiCoreV1Service.
function schemaName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const groupName = (group ?? '').split('.')[0] ?? '';
  const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  return `IoK8sApi${capitalize(groupName)}${capitalize(version ?? '')}${kind}`;
}

/** The keys of `data` that `validate` never looked at: the compiled validator reads every property its schema names. */
function unreadKeys(validate: Validate, data: unknown): { valid: boolean; unread: string[] } {
  const watched: { path: string; value: Record<string, unknown>; read: Set<string>; enumerated: boolean }[] = [];
  const proxies = new WeakMap<object, unknown>();
  const watch = (value: unknown, at: string): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    // One proxy per object: the validator reads a property once to test it and again to validate it.
    if (proxies.has(value)) return proxies.get(value);
    const record = { path: at, value: value as Record<string, unknown>, read: new Set<string>(), enumerated: false };
    watched.push(record);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const item: unknown = Reflect.get(target, key, receiver);
        if (typeof key !== 'string') return item;
        record.read.add(key);
        return watch(item, `${at}/${key}`);
      },
      // A map (labels, resources.limits) is walked key by key: every key of it is the schema's.
      ownKeys(target) {
        record.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  };
  const valid = validate(watch(data, ''));
  const unread = watched
    .filter((record) => !Array.isArray(record.value) && !record.enumerated)
    .flatMap((record) => Object.keys(record.value).filter((key) => !record.read.has(key)).map((key) => `${record.path}/${key}`));
  return { valid, unread: [...new Set(unread)] };
}

/** Schema errors and unknown keys of one object, each as one line; empty when it is valid. */
export async function validateManifest(manifest: unknown): Promise<string[]> {
  const { apiVersion, kind } = (manifest ?? {}) as Partial<Manifest>;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['/ apiVersion and kind are required'];
  let validate: Validate;
  try {
    ({ validate } = (await import(`kubernetes-models/_schemas/${schemaName(apiVersion, kind)}`)) as { validate: Validate });
  } catch {
    return [`/ ${apiVersion} ${kind} is not a kind of the Kubernetes API`];
  }
  const { valid, unread } = unreadKeys(validate, structuredClone(manifest));
  const errors = valid ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`);
  return [...errors, ...unread.map((key) => `${key} is not a field of ${apiVersion} ${kind}`)];
}
