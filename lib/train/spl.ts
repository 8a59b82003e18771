/**
 * Class-wise self-paced learning (SPL) with hard 0/1 weights, as SPNDL uses
 * it (SPNDL Sec. 3.3-3.4): at the start of each pace every training
 * sample's loss is computed with the current model (eval mode, our choice), and in each
 * class the ceil(rho_p * n_k) lowest-loss samples are selected, so every
 * class keeps the same proportion. The last pace uses every sample. Selection
 * is redone from scratch at each pace (samples can leave), and every pace's
 * losses and choices are kept for the figures of excluded samples.
 * @see notebooks/02-spndl.ipynb
 */

export interface SplSchedule {
  /** selected proportion per pace, increasing, the last one 1 */
  rho: number[];
  /** epochs per pace */
  paceEpochs: number[];
}

/** Our default proportions, a linear ramp to 1: the pace-1 share is lost from the text of SPNDL Sec. 4.4. */
export const DEFAULT_RHO = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

/**
 * Pace lengths in the paper's 30:30:30:30:30:100 ratio for a total of
 * `epochs` (250 -> [30,30,30,30,30,100], 25 -> [3,3,3,3,3,10]). Every pace
 * gets at least one epoch, so fewer than 6 epochs give 6 in total.
 */
export function paceEpochsFor(epochs: number, paces = 6): number[] {
  const early = Math.max(1, Math.round((epochs * 30) / 250));
  const out = new Array<number>(paces - 1).fill(early);
  out.push(Math.max(1, epochs - early * (paces - 1)));
  return out;
}

/** Checks a schedule; the error names the setting at fault. */
export function validateSchedule(s: SplSchedule): void {
  if (s.rho.length === 0) throw new Error('splRho is empty');
  if (s.rho.length !== s.paceEpochs.length) {
    throw new Error(`splRho has ${s.rho.length} paces but splPaceEpochs has ${s.paceEpochs.length}`);
  }
  s.rho.forEach((r, i) => {
    if (!(r > 0 && r <= 1)) throw new Error(`splRho[${i}] = ${r} must be in (0, 1]`);
    if (i > 0 && r < s.rho[i - 1]) throw new Error(`splRho must not decrease: ${s.rho[i - 1]} then ${r}`);
  });
  if (s.rho[s.rho.length - 1] !== 1) throw new Error(`splRho must end with 1 (the last pace uses all samples), got ${s.rho[s.rho.length - 1]}`);
  s.paceEpochs.forEach((e, i) => {
    if (!(Number.isInteger(e) && e >= 1)) throw new Error(`splPaceEpochs[${i}] = ${e} must be a positive integer`);
  });
}

export const totalEpochs = (s: SplSchedule) => s.paceEpochs.reduce((a, b) => a + b, 0);

/** The 1-based pace an epoch (1-based) belongs to, and whether it opens it. */
export function paceOfEpoch(paceEpochs: number[], epoch: number): { pace: number; starts: boolean } {
  let end = 0;
  for (let p = 0; p < paceEpochs.length; p++) {
    const start = end + 1;
    end += paceEpochs[p];
    if (epoch <= end) return { pace: p + 1, starts: epoch === start };
  }
  throw new Error(`epoch ${epoch} is past the schedule's ${end} epochs`);
}

export interface Selection {
  /** per sample (same order as the losses given) */
  selected: boolean[];
  /** per class: lambda_k, the largest selected loss (NaN for an absent class) */
  thresholds: number[];
  /** per class: samples selected and present */
  selectedCount: number[];
  classCount: number[];
}

/**
 * SPNDL Eq. 12 with the class threshold set by rank (our reading of Sec. 3.3,
 * "proportionally"): in each class keep the ceil(rho * n_k)
 * lowest losses (at least one; ties broken by position).
 */
export function selectPerClass(losses: ArrayLike<number>, labels: ArrayLike<number>, rho: number, numClasses: number): Selection {
  if (losses.length !== labels.length) throw new Error(`${losses.length} losses but ${labels.length} labels`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    if (Number.isNaN(losses[i])) throw new Error(`sample ${i} has a NaN loss; SPL cannot rank it`);
    byClass[labels[i]].push(i);
  }
  const selected = new Array<boolean>(losses.length).fill(false);
  const thresholds: number[] = [];
  const selectedCount: number[] = [];
  byClass.forEach((members) => {
    // the 1e-9 keeps 0.7 * 10 = 7.000000000000001 from rounding up to 8
    const keep = members.length ? Math.max(1, Math.ceil(rho * members.length - 1e-9)) : 0;
    const ranked = [...members].sort((a, b) => losses[a] - losses[b] || a - b).slice(0, keep);
    for (const i of ranked) selected[i] = true;
    thresholds.push(keep ? losses[ranked[keep - 1]] : NaN);
    selectedCount.push(keep);
  });
  return { selected, thresholds, selectedCount, classCount: byClass.map((m) => m.length) };
}

/** What SPL did at one pace: kept in the results (spl.csv) for the figures. */
export interface PaceRecord {
  pace: number;
  /** first epoch of the pace (1-based) */
  epoch: number;
  rho: number;
  /** dataset indices of the training samples ranked */
  samples: number[];
  labels: number[];
  losses: number[];
  selected: boolean[];
  thresholds: number[];
}

/** Dataset indices selected by a pace record. */
export const selectedSamples = (r: PaceRecord) => r.samples.filter((_, i) => r.selected[i]);

/** Long-format rows (one per sample and pace) for a DataFrame or CSV. */
export function paceRows(records: PaceRecord[], extra: Record<string, string | number> = {}) {
  return records.flatMap((r) => r.samples.map((sample, i) => ({
    ...extra, pace: r.pace, epoch: r.epoch, rho: r.rho, sample, label: r.labels[i],
    loss: r.losses[i], selected: r.selected[i] ? 1 : 0, threshold: r.thresholds[r.labels[i]],
  })));
}
