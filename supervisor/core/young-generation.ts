// V8's young generation, for a relay that allocates per request and keeps little of it: left alone, V8 doubles it
// under load up to a size chosen from the machine's memory (32 MB a semi-space on a large host), and the RSS under
// load with it. `--semi-space-growth-factor` is read each time V8 would grow it, so setting it at run time takes
// effect (`--max-semi-space-size` is read only when the heap is set up).
//
// Set once the supervisor is ready, not at the start: a V8 flag changed at run time changes V8's flag hash, and
// V8 then rejects the code cache that Node embeds for its own modules, so every builtin loaded after the change
// (net, http, child_process, crypto: most of the start) would be compiled from source (~20% more CPU to ready).
import v8 from 'node:v8';

/** Keeps the young generation at the size it has now. */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
