// Reads the Dockerfile as Docker does: one instruction per logical line (backslash continuations joined, comments
// and blank lines dropped), grouped into stages.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../render/blueprint.js';

export interface Instruction {
  /** Upper case: `RUN`, `COPY`. */
  readonly keyword: string;
  readonly args: string;
  /** 1-based line where the instruction starts. */
  readonly line: number;
}

export interface Stage {
  readonly from: Instruction;
  /** The image (`node:24.21.0-trixie-slim`) or the earlier stage's name it starts from. */
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export function readDockerfileText(root: string = PROJECT_ROOT): string {
  return readFileSync(path.join(root, 'Dockerfile'), 'utf8');
}

export function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    // A comment inside a continued instruction is dropped too, as Docker does.
    if (line === '' || line.startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = pending + line;
    pending = '';
    const [keyword = '', ...rest] = whole.split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
  });
  return instructions;
}

export function parseStages(instructions: readonly Instruction[]): Stage[] {
  const stages: { from: Instruction; base: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push({ from: instruction, base: words[0] ?? '', name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** An exec-form argument list (`["tini", "-s", "--"]`); undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  return Array.isArray(parsed) && parsed.every((word) => typeof word === 'string') ? parsed : undefined;
}

/** `ENV A=1 B="two words"` as pairs (the `ENV A 1` form is legacy and refused). */
export function envPairs(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const [, key, quoted, bare] of args.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)) pairs[key as string] = quoted ?? bare ?? '';
  return pairs;
}

/** The environment the image sets for its command (the final stage's ENV instructions). */
export function imageEnvironment(text: string = readDockerfileText()): Record<string, string> {
  const final = parseStages(parseInstructions(text)).at(-1);
  const env: Record<string, string> = {};
  for (const instruction of final?.instructions ?? []) if (instruction.keyword === 'ENV') Object.assign(env, envPairs(instruction.args));
  return env;
}

// The most the supervisor takes from SIGTERM to its exit: the drain, the app's stop, then 1 s for the app's SIGKILL
// and 2 s to close its ports (docs/operations.md, "Shutdown"; render.yaml's maxShutdownDelaySeconds has the same sum).
export const SHUTDOWN_MARGIN_MS = 3_000;
