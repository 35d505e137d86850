#!/usr/bin/env node
// The command's entry, kept in git so that npm can link it before the build has run (a workspace checkout).
import '../dist/cli.js';
