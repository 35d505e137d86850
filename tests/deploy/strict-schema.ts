// Keys that a JSON schema does not know, as kubeconform's --strict refuses them: a typo such as `readinesProbe`
// is valid JSON-schema-wise wherever the schema leaves extra keys open, which most published schemas do.
// A key is known when the schema (with its allOf, or its best-matching anyOf/oneOf branch) names it, matches one of
// its patternProperties, or describes extra keys with a schema of their own. `additionalProperties: true` next to
// named properties is read as looseness, not as leave to misspell; an object schema that names no property at all
// (a free-form map) takes any key.

type Schema = boolean | { readonly [key: string]: unknown };
type SchemaObject = { readonly [key: string]: unknown };

function isObject(value: unknown): value is SchemaObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolve(root: SchemaObject, schema: unknown): Schema {
  let current = schema;
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops += 1) {
    const ref = current.$ref;
    if (!ref.startsWith('#') || hops > 32) throw new Error(`Cannot resolve $ref ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .filter(Boolean)
      .reduce<unknown>((node, part) => (isObject(node) ? node[decodeURIComponent(part.replace(/~1/g, '/').replace(/~0/g, '~'))] : undefined), root);
    if (current === undefined) throw new Error(`Cannot resolve $ref ${ref}`);
  }
  return typeof current === 'boolean' ? current : isObject(current) ? current : true;
}

interface Shape {
  readonly properties: Map<string, unknown[]>;
  readonly patterns: [RegExp, unknown][];
  readonly extra: unknown[];
  readonly branches: unknown[][];
  readonly items: unknown[];
  /** Each `type` met on the way: a value must be of one of each. */
  readonly types: string[][];
}

// The schema and its allOf members, folded into one description of an object's keys and an array's items.
function shapeOf(root: SchemaObject, schema: unknown, shape: Shape = { properties: new Map(), patterns: [], extra: [], branches: [], items: [], types: [] }): Shape {
  const resolved = resolve(root, schema);
  if (typeof resolved === 'boolean') return shape;
  if (typeof resolved.type === 'string') shape.types.push([resolved.type]);
  else if (Array.isArray(resolved.type)) shape.types.push(resolved.type as string[]);
  if (isObject(resolved.properties)) {
    for (const [key, value] of Object.entries(resolved.properties)) shape.properties.set(key, [...(shape.properties.get(key) ?? []), value]);
  }
  if (isObject(resolved.patternProperties)) {
    for (const [pattern, value] of Object.entries(resolved.patternProperties)) shape.patterns.push([new RegExp(pattern, 'u'), value]);
  }
  if (isObject(resolved.additionalProperties)) shape.extra.push(resolved.additionalProperties);
  if (resolved.items !== undefined) shape.items.push(resolved.items);
  for (const member of (resolved.allOf as unknown[] | undefined) ?? []) shapeOf(root, member, shape);
  for (const keyword of ['anyOf', 'oneOf'] as const) {
    const branches = resolved[keyword];
    if (Array.isArray(branches)) shape.branches.push(branches);
  }
  return shape;
}

function typeMatches(type: string, value: unknown): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'null') return value === null;
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return isObject(value);
  return typeof value === type;
}

function merge(a: Shape, b: Shape): Shape {
  const properties = new Map(a.properties);
  for (const [key, value] of b.properties) properties.set(key, [...(properties.get(key) ?? []), ...value]);
  return {
    properties,
    patterns: [...a.patterns, ...b.patterns],
    extra: [...a.extra, ...b.extra],
    branches: [...a.branches, ...b.branches],
    items: [...a.items, ...b.items],
    types: [...a.types, ...b.types],
  };
}

// Each way through the anyOf/oneOf groups, as one shape (at most 64 of them).
function variants(root: SchemaObject, shape: Shape): Shape[] {
  const [group, ...rest] = shape.branches;
  if (!group) return [shape];
  const base = { ...shape, branches: rest };
  return group.flatMap((branch) => variants(root, merge(base, shapeOf(root, branch)))).slice(0, 64);
}

function walkShape(root: SchemaObject, shape: Shape, data: unknown, at: string): string[] {
  const unknown: string[] = [];
  if (Array.isArray(data)) {
    data.forEach((item, index) => unknown.push(...walk(root, shape.items, item, `${at}/${index}`)));
  } else if (isObject(data)) {
    const describesKeys = shape.properties.size > 0 || shape.patterns.length > 0 || shape.extra.length > 0;
    for (const [key, value] of Object.entries(data)) {
      const named = shape.properties.get(key);
      const patterned = shape.patterns.filter(([pattern]) => pattern.test(key)).map(([, schema]) => schema);
      const candidates = named ?? (patterned.length > 0 ? patterned : shape.extra);
      if (candidates.length > 0) unknown.push(...walk(root, candidates, value, `${at}/${key}`));
      else if (describesKeys) unknown.push(`${at}/${key}`);
    }
  }
  return unknown;
}

function walk(root: SchemaObject, schemas: readonly unknown[], data: unknown, at: string): string[] {
  if (schemas.length === 0) return [];
  // Several schemas for one value (a key named twice through allOf, or by two patterns): known to one is known.
  if (schemas.length > 1) {
    const results = schemas.map((schema) => walk(root, [schema], data, at));
    return results.reduce((common, result) => common.filter((path) => result.includes(path)));
  }
  // anyOf/oneOf: among the ways through whose types admit the value, the one that leaves the fewest keys unknown.
  const all = variants(root, shapeOf(root, schemas[0]));
  const admitting = all.filter((shape) => shape.types.every((types) => types.some((type) => typeMatches(type, data))));
  return (admitting.length > 0 ? admitting : all)
    .map((shape) => walkShape(root, shape, data, at))
    .reduce((fewest, result) => (result.length < fewest.length ? result : fewest));
}

/** JSON pointers of the keys in `data` that `schema` does not know (empty when none). */
export function unknownKeys(schema: object, data: unknown): string[] {
  return walk(schema as SchemaObject, [schema], data, '');
}
