// Moving one item inside a dense list 0..n-1: which neighbours shift, and by how much.

/** The range of positions that shift by `by` when an item moves from `from` to `to`; undefined when it stays. */
export function shiftedPosition(from: number, to: number): { from: number; to: number; by: 1 | -1 } | undefined {
  if (to === from) return undefined;
  // Moving up: the items in [to, from) move down by one; moving down: the items in (from, to] move up by one.
  return to < from ? { from: to, to: from - 1, by: 1 } : { from: from + 1, to, by: -1 };
}
