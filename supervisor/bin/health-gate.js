#!/usr/bin/env node
// The command's entry, kept in git so that npm can link it before the build has run (a workspace checkout).
// It turns on Node's compile cache before the CLI loads, never failing the start (the app's process is not
// affected): a start with the cache warm spends less CPU compiling the supervisor and its libraries. The cache
// lives in NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// No V8 flag is set here: one changed before Node's own modules load makes V8 reject their embedded code cache
// (see core/young-generation.ts, set once ready).
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/cli.js');
