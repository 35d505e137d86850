// What a refused command line most likely meant: the option or command closest to a misspelt one, and `--`
// before an app command given without it. parseArgs says what it refused; this says what to type instead.
import leven from 'leven';
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

// Flags are variables in kebab-case: `--REQUIRED_TABLES` and `--required_tables` both mean `--required-tables`.
function normalize(word: string): string {
  return word.replace(/^-+/, '').toLowerCase().replaceAll('_', '-');
}

/**
 * The candidate `word` most likely stands for: the same word spelt as a variable, the one candidate it begins,
 * or the nearest by edit distance when that is close enough to be a typo; undefined when none is.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const wanted = normalize(word);
  if (wanted === '') return undefined;
  const exact = candidates.find((candidate) => normalize(candidate) === wanted);
  if (exact !== undefined) return exact;
  const extending = candidates.filter((candidate) => normalize(candidate).startsWith(wanted));
  if (extending.length === 1) return extending[0];
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = leven(wanted, normalize(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(wanted.length / 4)) ? best : undefined;
}

/** What is wrong with a command line that a strict parse refused, as far as a typo or a missing `--` explains it. */
export type Refusal =
  | { readonly kind: 'unknown-option'; readonly given: string; readonly suggestion: string | undefined }
  /** A word where only options may be: `index` is its place in the arguments. */
  | { readonly kind: 'unexpected-word'; readonly given: string; readonly index: number };

/**
 * Reads the arguments again, leniently, for the first unknown option or (unless `wordsAllowed`) stray word;
 * undefined when neither is the trouble (a missing value, say: parseArgs's own message says it well).
 */
export function findRefusal(args: readonly string[], options: ParseArgsOptionsConfig, wordsAllowed = false): Refusal | undefined {
  const optionNames = Object.keys(options);
  const known = new Set(optionNames);
  const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'option' && !known.has(token.name)) {
      const suggestion = closest(token.name, optionNames);
      return { kind: 'unknown-option', given: token.rawName, suggestion: suggestion === undefined ? undefined : `--${suggestion}` };
    }
    if (token.kind === 'positional' && !wordsAllowed) return { kind: 'unexpected-word', given: token.value, index: token.index };
  }
  return undefined;
}

/** `Unknown option --x; did you mean --y?`, the question left out when nothing is close. */
export function unknownOptionMessage(refusal: Extract<Refusal, { kind: 'unknown-option' }>): string {
  return `Unknown option ${refusal.given}${refusal.suggestion === undefined ? '' : `; did you mean ${refusal.suggestion}?`}`;
}
