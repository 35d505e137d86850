// Finds app/public both when running from source (app/) and compiled (dist/app/), as the build does not copy it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CANDIDATES = ['./public/', '../../app/public/'];

/** Absolute path of the folder with the board page; undefined when it cannot be found. */
export function findPublicDir(): string | undefined {
  for (const candidate of CANDIDATES) {
    const dir = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}
