// The documentation's pages and what a reader follows in them: links outside code, and the anchors GitHub gives
// each heading. Shared by the tests of tests/docs/.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every page under docs/, relative to the project's root, e.g. `docs/migrations/prisma.md`. */
export function docsPages(): string[] {
  return readdirSync(path.join(PROJECT_ROOT, 'docs'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.md'))
    .map((entry) => path.relative(PROJECT_ROOT, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** The pages a reader meets: the front page, docs/, the board app's page and the npm package's. */
export function allPages(): string[] {
  return ['README.md', ...docsPages(), 'app/README.md', 'supervisor/README.md'];
}

export function readPage(page: string): string {
  return readFileSync(path.join(PROJECT_ROOT, page), 'utf8');
}

// Fenced blocks and inline code hold examples (a Deploy-button snippet, `[x](y)` in a shell line), not links.
function withoutCode(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/(`+)[\s\S]*?\1/g, '');
}

/** The targets of the page's Markdown links (`[text](target)`), as written. */
export function linksOf(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((match) => match[1] as string);
}

/** The anchors of the page's headings as GitHub makes them: lower case, punctuation dropped, spaces to dashes. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = (heading as string).toLowerCase().replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}
