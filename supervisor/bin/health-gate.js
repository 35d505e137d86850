#!/usr/bin/env node
// The command's entry, kept in git so that npm can link it before the build has run (a workspace checkout).
// It turns on Node's compile cache before the CLI loads: a start with the cache warm spends less CPU compiling
// the supervisor and its libraries. The cache lives in NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. It never fails the start, and the app's process is not affected.
import module from 'node:module';

module.enableCompileCache?.();
await import('../dist/cli.js');
