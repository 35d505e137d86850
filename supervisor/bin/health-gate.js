#!/usr/bin/env node
// The command's entry, kept in git so that npm can link it before the build has run (a workspace checkout).
// It sets up what the process runs with before the CLI loads, never failing the start, and the app's process is
// not affected:
// - Node's compile cache: a start with the cache warm spends less CPU compiling the supervisor and its libraries.
//   The cache lives in NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// - V8's young generation stays at its initial size instead of doubling under load up to a size chosen from the
//   machine's memory (32 MB a semi-space on a large host): a proxy allocates per request, and little of it survives.
//   A flag read each time V8 would grow it, so setting it now takes effect, where --max-semi-space-size would not.
import module from 'node:module';
import v8 from 'node:v8';

v8.setFlagsFromString('--semi-space-growth-factor=1');
module.enableCompileCache?.();
await import('../dist/cli.js');
