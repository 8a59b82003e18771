/**
 * (target, neutral reference) pairing, CK+ style: each peak frame is paired
 * with the first (neutral) frame of its own sequence, so the 3 peaks of a
 * sequence share one reference (CK+: 327 sequences -> 981 pairs).
 * @see notebooks/01-data-and-preprocessing.ipynb
 */
import type { ManifestRow } from './manifest';

export interface Pair {
  /** index of the target row in the manifest */
  target: number;
  /** path of the neutral reference, as in the manifest */
  neutral: string;
  sequence: string;
}

/**
 * The pairs of a manifest, one per row. Every row must have a neutral_path,
 * shared by all rows of its sequence; a row without one is an error naming
 * it (nothing is dropped silently).
 */
export function neutralPairs(rows: ManifestRow[]): Pair[] {
  const bySequence = new Map<string, string>();
  return rows.map((r, i) => {
    const where = `row ${i + 2} (${r.path})`;
    if (!r.neutral_path) throw new Error(`${where}: no neutral_path; this dataset has no neutral references (use a variant without a neutral image)`);
    const key = `${r.subject}\u0000${r.sequence}`;
    const seen = bySequence.get(key);
    if (seen !== undefined && seen !== r.neutral_path) {
      throw new Error(`${where}: sequence '${r.sequence}' has two neutral frames (${seen}, ${r.neutral_path})`);
    }
    bySequence.set(key, r.neutral_path);
    return { target: i, neutral: r.neutral_path, sequence: r.sequence };
  });
}

/**
 * One extra row per sequence for its neutral frame, labelled 'neutral' (the
 * 8-class CK+ protocol: 327 sequences add 327 images). Factor columns are
 * copied from the sequence's first row; intensity becomes 0. A neutral row
 * is its own reference (its neutral_path is its path).
 */
export function withNeutralClass(rows: ManifestRow[]): ManifestRow[] {
  const added = new Map<string, ManifestRow>();
  for (const r of rows) {
    if (!r.neutral_path) continue;
    const key = `${r.subject}\u0000${r.sequence}`;
    if (added.has(key)) continue;
    const n: ManifestRow = { ...r, path: r.neutral_path, frame: 0, label: 'neutral', neutral_path: r.neutral_path };
    if ('intensity' in n) n.intensity = 0;
    if ('true_label' in n) n.true_label = 'neutral';
    if ('label_flipped' in n) n.label_flipped = 0;
    if ('corruption' in n) n.corruption = 'none';
    // the neutral frame has its own landmark crop (CK+), not the peak frame's
    for (const k of ['left', 'top', 'width', 'height']) {
      if (`neutral_crop_${k}` in r) n[`crop_${k}`] = r[`neutral_crop_${k}`];
    }
    added.set(key, n);
  }
  return [...rows, ...added.values()];
}
