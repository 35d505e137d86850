// `npm run docs`: rewrites the generated region of docs/configuration.md from the settings table.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withSettingsTables } from './configuration-page.js';

// Compiled to dist/scripts/: the project's root is two folders up.
const page = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const before = readFileSync(page, 'utf8');
const after = withSettingsTables(before);
if (after !== before) writeFileSync(page, after);
process.stdout.write(`docs/configuration.md ${after === before ? 'is up to date' : 'rewritten'}\n`);
