/**
 * A tiny hand-made FerSet for the training tests: 3 classes drawn as bright
 * bars in different places, on a per-subject background, with each sample's
 * neutral reference (the subject's plain background). Seconds to train.
 */
import seedrandom from 'seedrandom';
import type { FerSet } from '../lib/data/dataset';

export function tinySet(opts: { subjects?: number; perClass?: number; size?: number; split?: boolean } = {}): FerSet {
  const subjects = opts.subjects ?? 6, perClass = opts.perClass ?? 2, size = opts.size ?? 16;
  const classes = ['anger', 'happiness', 'surprise'];
  const rng = seedrandom('tiny');
  const n = subjects * classes.length * perClass;
  const images = new Float32Array(n * size * size);
  const neutral = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  const subjectIds: string[] = [];
  const rows: FerSet['rows'] = [];
  let i = 0;
  for (let s = 0; s < subjects; s++) {
    const background = 0.2 + 0.4 * rng();
    for (let k = 0; k < classes.length; k++) {
      for (let f = 0; f < perClass; f++, i++) {
        for (let p = 0; p < size * size; p++) {
          const [y, x] = [Math.floor(p / size), p % size];
          const bar = k === 0 ? y < size / 3 : k === 1 ? y >= (2 * size) / 3 : x < size / 3;
          neutral[i * size * size + p] = background;
          images[i * size * size + p] = Math.min(1, background + (bar ? 0.4 : 0) + 0.1 * rng());
        }
        labels[i] = k;
        subjectIds.push(`S${s}`);
        rows.push({
          path: `S${s}/${classes[k]}/${f}.png`, subject: `S${s}`, sequence: `S${s}-${k}`, frame: f + 1, label: classes[k], neutral_path: `S${s}/${classes[k]}/0.png`,
          ...(opts.split ? { split: s < subjects - 2 ? 'train' : 'test' } : {}),
        });
      }
    }
  }
  return { name: 'tiny', size, channels: 1, images, neutral, labels, classes, subjects: subjectIds, rows };
}

/** Test fold per sample: subject index mod k. */
export const tinyFolds = (set: FerSet, k: number) => set.subjects.map((s) => Number(s.slice(1)) % k);
