/**
 * Seeded random numbers for data generation, fold assignment and
 * augmentation. Every stream is named (`rng(seed, 'subject', 's001')`), so
 * adding a subject or a frame never shifts the numbers drawn elsewhere.
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** uniform in [0, 1) */
  (): number;
}

/** A generator for one named stream of a seed. */
export function rng(seed: number, ...stream: (string | number)[]): Rng {
  return seedrandom([String(seed), ...stream].join(':'));
}

export const uniform = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r();

/** Standard normal draw (Box-Muller). */
export function gaussian(r: Rng): number {
  const u = 1 - r();  // (0, 1], keeps log finite
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export const pick = <T>(r: Rng, items: readonly T[]): T => items[Math.floor(r() * items.length)];

/** Fisher-Yates shuffle of a copy. */
export function shuffled<T>(r: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
