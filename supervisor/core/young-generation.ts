// V8's young generation, for a relay that allocates per request and keeps little of it: left alone, V8 doubles it
// under load up to a size chosen from the machine's memory (32 MB a semi-space on a large host), and the RSS under
// load with it. `--semi-space-growth-factor` is read each time V8 would grow it, so setting it at run time takes
// effect (`--max-semi-space-size` is read only when the heap is set up).
//
// Set once the supervisor is ready, not at the start: a V8 flag changed at run time changes V8's flag hash, and
// V8 then rejects the code cache that Node embeds for its own modules, so every builtin loaded after the change
// (net, http, child_process, crypto: most of the start) would be compiled from source (~25% more CPU to ready).
// By then the start's allocations have grown the young generation (to 4 MB a semi-space): one memory-reducing
// collection takes it back to its initial size, where the flag then keeps it.
import v8 from 'node:v8';
import vm from 'node:vm';

type CollectGarbage = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Keeps the young generation at its size from now on, and shrinks it to its initial size on the next turn of the
 * event loop (one last-resort collection, ~15-35 ms of CPU once, that need not delay what the caller does now).
 */
export function keepYoungGenerationSmall(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  // `gc` exists in contexts made after --expose-gc; a last-resort collection is the kind that shrinks new space.
  v8.setFlagsFromString('--expose-gc');
  const collectGarbage = vm.runInNewContext('gc') as CollectGarbage;
  setImmediate(() => collectGarbage({ type: 'major', execution: 'sync', flavor: 'last-resort' })).unref();
}
