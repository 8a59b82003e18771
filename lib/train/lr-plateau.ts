/**
 * The halve-and-reload learning-rate rule (IDFERM §5.3, stated for its
 * pretraining; the split by subjects is our choice): a validation split of
 * the fold's training subjects is held out;
 * after each epoch, when the training loss rose by more than `rise` over the
 * previous epoch, or the validation accuracy has not improved for `patience`
 * epochs, every optimiser's learning rate is multiplied by `factor` and the
 * best-validation checkpoint so far is reloaded. A method opts in through
 * Method.lrPlateau; lib/train/trainer.ts applies the rule.
 * @see notebooks/04-idferm.ipynb
 */
import { rng, shuffled } from '../data/random';

export interface LrPlateau {
  /** share of the fold's training subjects held out for validation (at least one subject) */
  valShare: number;
  /** epochs without a validation gain that trigger the rule */
  patience: number;
  /** relative rise of the training loss, epoch over epoch, that triggers the rule (0.25: +25 %) */
  rise: number;
  /** learning-rate factor applied at each trigger (the paper halves: 0.5) */
  factor: number;
}

/** Checks a rule, naming the bad field. */
export function validateLrPlateau(rule: LrPlateau, where: string): void {
  const bad = (msg: string) => { throw new Error(`${where}: ${msg}`); };
  if (!(rule.valShare > 0 && rule.valShare < 1)) bad(`valShare ${rule.valShare} must lie in (0, 1)`);
  if (!(Number.isInteger(rule.patience) && rule.patience >= 1)) bad(`patience ${rule.patience} must be a positive integer`);
  if (!(rule.rise >= 0)) bad(`rise ${rule.rise} must be >= 0`);
  if (!(rule.factor > 0 && rule.factor < 1)) bad(`factor ${rule.factor} must lie in (0, 1)`);
}

/**
 * Splits a fold's training samples by subject: round(valShare x subjects)
 * subjects (at least 1, seeded) for validation, the rest to train on.
 */
export function validationSplit(subjects: string[], train: Int32Array, valShare: number, seed: number): { fit: Int32Array; validation: Int32Array } {
  const ids = [...new Set(Array.from(train, (s) => subjects[s]))].sort();
  const n = Math.max(1, Math.round(ids.length * valShare));
  if (n >= ids.length) throw new Error(`the learning-rate rule's validation split needs at least 2 training subjects in the fold; it has ${ids.length}`);
  const held = new Set(shuffled(rng(seed, 'lr-plateau-validation'), ids).slice(0, n));
  return {
    fit: Int32Array.from(Array.from(train).filter((s) => !held.has(subjects[s]))),
    validation: Int32Array.from(Array.from(train).filter((s) => held.has(subjects[s]))),
  };
}

/** The rule's state after an epoch; stored in the fold's checkpoint. */
export interface PlateauState {
  /** epoch of the best validation accuracy so far (0: none yet) */
  bestEpoch: number;
  bestValAcc: number;
  /** training loss of the best epoch: the loss to compare with after a reload */
  bestTrainLoss: number;
  /** product of the factors applied so far */
  scale: number;
  /** epochs since the last validation gain or trigger */
  sinceBest: number;
  /** training loss of the previous epoch (null before the first) */
  lastTrainLoss: number | null;
}

export const initialPlateauState = (): PlateauState => ({ bestEpoch: 0, bestValAcc: -1, bestTrainLoss: NaN, scale: 1, sinceBest: 0, lastTrainLoss: null });

/**
 * The rule's decision after `epoch`: whether the validation accuracy improved
 * (save the weights as the best) and whether the rule fires (scale the rate,
 * reload the best weights). After a reload the training loss to beat is the
 * best epoch's, the loss of the weights training goes on from.
 */
export function plateauStep(rule: LrPlateau, s: PlateauState, epoch: number, trainLoss: number, valAcc: number): { state: PlateauState; improved: boolean; trigger: 'rise' | 'patience' | null } {
  const improved = valAcc > s.bestValAcc;
  const next: PlateauState = improved
    ? { ...s, bestEpoch: epoch, bestValAcc: valAcc, bestTrainLoss: trainLoss, sinceBest: 0 }
    : { ...s, sinceBest: s.sinceBest + 1 };
  const trigger = s.lastTrainLoss !== null && trainLoss > s.lastTrainLoss * (1 + rule.rise) ? 'rise'
    : next.sinceBest >= rule.patience ? 'patience' : null;
  return trigger
    ? { state: { ...next, scale: next.scale * rule.factor, sinceBest: 0, lastTrainLoss: next.bestTrainLoss }, improved, trigger }
    : { state: { ...next, lastTrainLoss: trainLoss }, improved, trigger };
}

/**
 * Each fold's best-validation epoch row (the epoch the rule's last row names),
 * to report beside the final epoch; never choose epochs by test accuracy.
 * Rows of runs without the rule have no best epoch: none are returned.
 */
export function bestValidationRows<R extends { fold: number; epoch: number; best_epoch?: number }>(rows: R[]): R[] {
  const folds = [...new Set(rows.map((r) => r.fold))].sort((a, b) => a - b);
  return folds.flatMap((fold) => {
    const mine = rows.filter((r) => r.fold === fold);
    const best = mine.reduce((a, r) => (r.epoch > a.epoch ? r : a)).best_epoch;
    return mine.filter((r) => best !== undefined && r.epoch === best);
  });
}
