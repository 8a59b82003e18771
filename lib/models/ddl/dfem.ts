/**
 * DDL stage 1, the Disturbance Feature Extraction Model (DDL Sec. 3.2; the
 * feature layer and the head PReLUs follow the authors' code): a trunk like
 * S_g, an FC+PReLU to the feature f^p, and one FC(+PReLU) head per
 * disturbing factor, trained with the sum of per-factor
 * cross-entropies where a sample's missing labels are skipped (Eq. 1; Sec. 4.2).
 * Also: which manifest column carries each factor (SynFER or real data),
 * and the factor labels of a dataset with -1 where a label is missing.
 * @see notebooks/05-ddl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import type { ManifestRow } from '../../data/manifest';
import { SeedSequence } from '../../train/rng';
import { apply, avgPoolFlat, dense, prelu, trunk, TrunkOptions } from './layers';

/** The paper's six factors (Table 1 letters), plus occlusion (SynFER only, not in the paper). */
export const FACTORS = ['g', 'a', 'r', 'id', 'il', 'p', 'oc'] as const;
export type Factor = (typeof FACTORS)[number];

export const FACTOR_NAMES: Record<Factor, string> = {
  g: 'gender', a: 'age', r: 'race', id: 'identity', il: 'illumination', p: 'pose', oc: 'occlusion (glasses)',
};

/**
 * Manifest columns per factor, first present wins: SynFER's columns first
 * (gender, age_group, skin_tone as the race-like trait (our choice for grey synthetic faces), subject,
 * light_bin, pose_bin, glasses), then the real readers' (RAF-DB attributes:
 * gender, age, race; Multi-PIE: illumination 0-19, pose = camera).
 */
export const FACTOR_COLUMNS: Record<Factor, string[]> = {
  g: ['gender'], a: ['age_group', 'age'], r: ['skin_tone', 'race'], id: ['subject'],
  il: ['light_bin', 'illumination'], p: ['pose_bin', 'pose'], oc: ['glasses'],
};

/** The paper's source database of each factor (dfemMode 'per-source' trains one DFEM per source, like the authors' code). */
export const FACTOR_SOURCE: Record<Factor, 'Multi-PIE' | 'RAF-DB'> = {
  g: 'RAF-DB', a: 'RAF-DB', r: 'RAF-DB', id: 'Multi-PIE', il: 'Multi-PIE', p: 'Multi-PIE', oc: 'RAF-DB',
};

/** Parses 'g,a,r,id' (or '' for none); unknown letters are an error naming the option. */
export function parseFactors(text: string, where = 'factors'): Factor[] {
  if (!text.trim()) return [];
  const out = text.split(',').map((f) => f.trim());
  for (const f of out) if (!(FACTORS as readonly string[]).includes(f)) throw new Error(`${where}='${text}': '${f}' is not a factor (${FACTORS.join(', ')})`);
  if (new Set(out).size !== out.length) throw new Error(`${where}='${text}' lists a factor twice`);
  return out as Factor[];
}

export interface FactorLabels {
  factor: Factor;
  column: string;
  /** class names, sorted */
  classes: string[];
  /** per sample: class index, or -1 where the row has no value (ignored by the loss, DDL Sec. 4.2) */
  labels: Int32Array;
}

/** A factor's labels over some manifest rows; an error names the factor when no column carries it. */
export function factorLabels(rows: ManifestRow[], factor: Factor, where = 'dataset'): FactorLabels {
  const column = FACTOR_COLUMNS[factor].find((c) => rows.some((r) => r[c] !== undefined && String(r[c]) !== ''));
  if (!column) throw new Error(`${where}: no column for factor '${factor}' (${FACTOR_NAMES[factor]}); expected one of ${FACTOR_COLUMNS[factor].join(', ')}`);
  const text = rows.map((r) => (r[column] === undefined ? '' : String(r[column])));
  const classes = [...new Set(text.filter((t) => t !== ''))].sort((x, y) => (Number.isFinite(+x) && Number.isFinite(+y) ? +x - +y : x.localeCompare(y)));
  if (classes.length < 2) throw new Error(`${where}: factor '${factor}' (column ${column}) has ${classes.length} value(s); a classifier needs at least 2 (turn the disturbance on, e.g. FER_DDL_POSE)`);
  return { factor, column, classes, labels: Int32Array.from(text, (t) => (t === '' ? -1 : classes.indexOf(t))) };
}

export interface DfemOptions extends TrunkOptions {
  inputShape: [number, number, number];
  /** class count of each head, in factor order */
  heads: { factor: Factor; classes: number }[];
  featureDim: number;
  seed: number;
}

/** Outputs [f^p, u_2, u_3, u_4, u_5, ...head logits]. */
export function buildDfem(o: DfemOptions): tf.LayersModel {
  const seeds = new SeedSequence(o.seed);
  const input = tf.input({ shape: o.inputShape, name: 'dfem.input' });
  const u = trunk(input, 'dfem.', o, seeds);
  const fp = prelu(dense(avgPoolFlat(u[4], 'dfem.avg'), 'dfem.fc', o.featureDim, seeds), 'dfem.fp');
  const heads = o.heads.map((h) => prelu(dense(fp, `dfem.head.${h.factor}`, h.classes, seeds), `dfem.head.${h.factor}.prelu`));
  return tf.model({ inputs: input, outputs: [fp, u[1], u[2], u[3], u[4], ...heads], name: 'dfem' });
}

export interface DfemForward {
  fp: tf.Tensor2D;
  /** the transfer targets Q_p^1..Q_p^5 = [u_2, u_3, u_4, u_5, u_5] (Eq. 7, paired as in the authors' code) */
  qp: tf.Tensor4D[];
  heads: tf.Tensor2D[];
}

export function dfemForward(dfem: tf.LayersModel, x: tf.Tensor4D, training: boolean): DfemForward {
  const [fp, u2, u3, u4, u5, ...heads] = dfem.apply(x, { training }) as tf.Tensor[];
  return { fp: fp as tf.Tensor2D, qp: [u2, u3, u4, u5, u5] as tf.Tensor4D[], heads: heads as tf.Tensor2D[] };
}
