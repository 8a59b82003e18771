/**
 * Integer seeds for training (tf initialisers and random ops take numbers;
 * seeded generators come from lib/data/random). Every random choice of a run
 * is a pure function of (run seed, fold, epoch, step), so a resumed run draws
 * exactly what an uninterrupted one would, with no generator state to save.
 * @see notebooks/02-spndl.ipynb
 */

/** A 32-bit seed derived from its parts (FNV-1a over their decimal text). */
export function deriveSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('/')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Hands out distinct seeds one after another, e.g. one per layer
 * initialiser, so a model built twice from the same seed has the same weights.
 */
export class SeedSequence {
  private count = 0;
  constructor(readonly seed: number) {}
  next(): number {
    return deriveSeed(this.seed, this.count++);
  }
}
