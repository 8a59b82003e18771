/**
 * IDFERM's Radial Metric Learning network and losses (Liu et al. 2019, §4
 * and Algorithm 2):
 * - one network, shared by a query and its reference: inception-style conv
 *   groups -> an expression-classification (EC) branch and a metric-learning
 *   (ML) branch joined by a connecting layer (EC -> ML only);
 * - the learned decision function H(f1, f2) = ½|L_A f1|² + ½|L_A f2|²
 *   − (L_B f1)·(L_B f2) + c·(f1 + f2) + b (Eqs. 11–14): a Mahalanobis distance minus
 *   a locally adaptive threshold;
 * - the radial loss (Eq. 16, its reference term read as 1 − H): queries
 *   inside H ≤ −1 of their class's batch centre, references outside H ≥ +1;
 *   2K evaluations per batch of K;
 * - the baselines' metric losses (Tables 2–3; their forms are our reading): batch-all
 *   triplet and the in-batch (N+M)-tuplet clusters loss of the authors'
 *   earlier paper [6], with the generated face as an extra negative for [7].
 * Every metric loss returns how many distance (or H) evaluations it made.
 * @see notebooks/04-idferm.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { SeedSequence } from '../../train/rng';
import { stopGradient } from './hng';

export interface RmlArch {
  /** input crop side */
  size: number;
  classes: number;
  /** base width of the conv groups */
  width: number;
  /** D_in, D_out, d (sizes are our choice, IDFERM Sec. 4 gives none; lite: 128 / 64 / 32) */
  dIn: number;
  dOut: number;
  d: number;
  lreluSlope: number;
  /** false: the ML branch reads the conv features only ("combine directly") */
  connect: boolean;
  seed: number;
}

export interface RmlNet {
  arch: RmlArch;
  /** x -> h (conv groups + global average pooling) */
  trunk: tf.LayersModel;
  /** h -> e (FC1_EC) */
  ec1: tf.LayersModel;
  /** e -> logits (FC2_EC) */
  ec2: tf.LayersModel;
  /** [h, e] -> f (FC1_ML, connecting layer, FC2_ML) */
  ml: tf.LayersModel;
  /** f -> [L_A f, L_B f, c·f + b/2] (decisionH combines the two sides) */
  head: tf.LayersModel;
}

const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;

function convBn(x: tf.SymbolicTensor, name: string, filters: number, kernel: number, strides: number, a: RmlArch, seeds: SeedSequence) {
  x = apply(tf.layers.conv2d({ name, filters, kernelSize: kernel, strides, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seeds.next() }) }), x);
  x = apply(tf.layers.batchNormalization({ name: `${name}.bn`, momentum: 0.9, epsilon: 1e-5 }), x);
  return apply(tf.layers.leakyReLU({ alpha: a.lreluSlope, name: `${name}.lrelu` }), x);
}

/** Inception group: 1x1 ∥ 1x1→3x3 ∥ 1x1→5x5 ∥ maxpool3x3→1x1, concatenated. */
function inception(x: tf.SymbolicTensor, name: string, f: [number, number, number, number, number, number], a: RmlArch, seeds: SeedSequence) {
  const b1 = convBn(x, `${name}.b1`, f[0], 1, 1, a, seeds);
  const b3 = convBn(convBn(x, `${name}.b3r`, f[1], 1, 1, a, seeds), `${name}.b3`, f[2], 3, 1, a, seeds);
  const b5 = convBn(convBn(x, `${name}.b5r`, f[3], 1, 1, a, seeds), `${name}.b5`, f[4], 5, 1, a, seeds);
  const pool = apply(tf.layers.maxPooling2d({ name: `${name}.pool`, poolSize: 3, strides: 1, padding: 'same' }), x);
  const bp = convBn(pool, `${name}.bp`, f[5], 1, 1, a, seeds);
  return apply(tf.layers.concatenate({ name: `${name}.concat`, axis: -1 }), [b1, b3, b5, bp]);
}

const pool2 = (x: tf.SymbolicTensor, name: string) => apply(tf.layers.maxPooling2d({ name, poolSize: 3, strides: 2, padding: 'same' }), x);
const dense = (name: string, units: number, seeds: SeedSequence, useBias = true) =>
  tf.layers.dense({ name, units, useBias, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) });

/** The RML network (our lite layout: small inception groups and two-branch FC layers after IDFERM Sec. 4 / Fig. 4, scaled by width). */
export function buildRmlNet(a: RmlArch): RmlNet {
  const seeds = new SeedSequence(a.seed);
  const w = a.width;
  const xIn = tf.input({ shape: [a.size, a.size, 1], name: 'rml.input' });
  let x = pool2(convBn(xIn, 'rml.stem1', w, 5, 2, a, seeds), 'rml.pool1');
  x = pool2(convBn(x, 'rml.stem2', 2 * w, 3, 1, a, seeds), 'rml.pool2');
  x = inception(x, 'rml.group1', [w, w, (3 * w) / 2, w / 4, w / 2, w].map(Math.round) as never, a, seeds); // 4w channels
  x = pool2(x, 'rml.pool3');
  x = inception(x, 'rml.group2', [2 * w, 2 * w, 3 * w, w / 2, w, 2 * w].map(Math.round) as never, a, seeds); // 8w channels
  const h = apply(tf.layers.globalAveragePooling2d({ name: 'rml.gap' }), x);
  const trunk = tf.model({ inputs: xIn, outputs: h, name: 'trunk' });
  const hDim = h.shape[1] as number;

  const hIn = tf.input({ shape: [hDim], name: 'ec1.input' });
  const e = apply(tf.layers.leakyReLU({ alpha: a.lreluSlope, name: 'ec1.lrelu' }), apply(dense('ec1.fc', a.dIn, seeds), hIn));
  const ec1 = tf.model({ inputs: hIn, outputs: e, name: 'ec1' });
  const eIn = tf.input({ shape: [a.dIn], name: 'ec2.input' });
  const ec2 = tf.model({ inputs: eIn, outputs: apply(dense('ec2.fc', a.classes, seeds), eIn), name: 'ec2' });

  const mh = tf.input({ shape: [hDim], name: 'ml.h' });
  const me = tf.input({ shape: [a.dIn], name: 'ml.e' });
  const m = apply(tf.layers.leakyReLU({ alpha: a.lreluSlope, name: 'ml.fc1.lrelu' }), apply(dense('ml.fc1', a.dIn, seeds), mh));
  const joined = a.connect ? apply(tf.layers.concatenate({ name: 'ml.concat' }), [me, m]) : m;
  const c = apply(tf.layers.leakyReLU({ alpha: a.lreluSlope, name: 'ml.connect.lrelu' }), apply(dense('ml.connect', a.dOut, seeds), joined)); // Eq. 17
  const f = apply(dense('ml.fc2', a.d, seeds), c);
  const ml = tf.model({ inputs: [mh, me], outputs: f, name: 'ml' });

  // one input, each layer applied once: a layer applied to two symbolic inputs is counted twice by
  // tfjs and keeps its weights alive after the model is disposed. decisionH runs f1 and f2 as one batch.
  const fIn = tf.input({ shape: [a.d], name: 'head.f' });
  const la = tf.layers.dense({ name: 'head.LA', units: a.d, useBias: false, kernelInitializer: tf.initializers.identity({}) });
  const lb = tf.layers.dense({ name: 'head.LB', units: a.d, useBias: false, kernelInitializer: tf.initializers.identity({}) });
  const lin = tf.layers.dense({ name: 'head.c', units: 1, kernelInitializer: 'zeros', biasInitializer: 'zeros' });
  const head = tf.model({ inputs: fIn, outputs: [apply(la, fIn), apply(lb, fIn), apply(lin, fIn)], name: 'head' });
  // L_A = L_B = I + N(0, 0.01) (our choice: H starts as half the squared Euclidean distance), seeded
  tf.tidy(() => {
    for (const l of [la, lb]) {
      const k = l.getWeights()[0];
      l.setWeights([tf.add(k, tf.randomNormal(k.shape, 0, 0.01, 'float32', seeds.next()))]);
    }
  });
  return { arch: a, trunk, ec1, ec2, ml, head };
}

export const rmlParts = (n: RmlNet): Record<string, tf.LayersModel> => ({ trunk: n.trunk, ec1: n.ec1, ec2: n.ec2, ml: n.ml, head: n.head });

/** Forward pass: logits (with EC dropout when `dropout` > 0), the EC features e and the embedding f. */
export function rmlForward(n: RmlNet, x: tf.Tensor4D, training: boolean, dropout = 0, seed = 0): { logits: tf.Tensor2D; e: tf.Tensor2D; f: tf.Tensor2D } {
  const h = n.trunk.apply(x, { training }) as tf.Tensor2D;
  const e = n.ec1.apply(h, { training }) as tf.Tensor2D;
  const eDrop = training && dropout > 0 ? tf.dropout(e, dropout, undefined, seed) as tf.Tensor2D : e;
  return { logits: n.ec2.apply(eDrop, { training }) as tf.Tensor2D, e, f: n.ml.apply([h, e], { training }) as tf.Tensor2D };
}

/** Test time (IDFERM Sec. 5.3): one query through the conv groups and the EC branch only. */
export const rmlPredict = (n: RmlNet, x: tf.Tensor4D): tf.Tensor2D =>
  tf.tidy(() => n.ec2.apply(n.ec1.apply(n.trunk.apply(x, { training: false }), { training: false }), { training: false }) as tf.Tensor2D);

/** H(f1, f2) of Eq. 14 per row, [B]; f1 and f2 go through the head as one batch. */
export function decisionH(head: tf.LayersModel, f1: tf.Tensor2D, f2: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const n = f1.shape[0];
    const [a, b, lin] = (head.apply(tf.concat([f1, f2])) as tf.Tensor2D[]).map((t) => tf.split(t, [n, n]) as tf.Tensor2D[]);
    const sq = (t: tf.Tensor2D) => tf.sum(tf.square(t), 1);
    const quad = tf.sub(tf.mul(0.5, tf.add(sq(a[0]), sq(a[1]))), tf.sum(tf.mul(b[0], b[1]), 1));
    return tf.add(quad, tf.reshape(tf.add(lin[0], lin[1]), [-1])) as tf.Tensor1D; // c·(f1 + f2) + b
  });
}

/** Per-class batch centres of the queries (Algorithm 2, line 3; the batch mean is our reading) gathered for each query: [K, d]. Classes absent from the batch get no centre. */
export function batchCentres(f: tf.Tensor2D, labels: tf.Tensor1D, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    const onehot = tf.oneHot(labels, classes).toFloat() as tf.Tensor2D; // [K, C]
    const counts = tf.maximum(tf.sum(onehot, 0), 1); // [C]
    const centres = tf.div(tf.matMul(onehot, f, true, false), tf.expandDims(counts, 1)); // [C, d]
    return tf.matMul(onehot, centres) as tf.Tensor2D; // [K, d]
  });
}

export interface MetricLoss { loss: tf.Scalar; evaluations: number }

/**
 * Eq. 16 (adaptive H) or Eq. 8 with squared Euclidean D and fixed T = 1, β = 1 (`fixed`).
 * @param mask [K] 1 where the reference term applies (0 for neutral queries), default all
 */
export function radialLoss(head: tf.LayersModel, f: tf.Tensor2D, fRef: tf.Tensor2D, labels: tf.Tensor1D, classes: number,
  opts: { centre?: 'batch' | 'batch-stopgrad'; metric?: 'adaptive' | 'fixed'; mask?: tf.Tensor1D } = {}): MetricLoss {
  const k = f.shape[0];
  const loss = tf.tidy(() => {
    let c = batchCentres(f, labels, classes);
    if (opts.centre === 'batch-stopgrad') c = stopGradient(c);
    let inside: tf.Tensor1D, outside: tf.Tensor1D;
    if (opts.metric === 'fixed') {
      const d = (a: tf.Tensor2D) => tf.sum(tf.square(tf.sub(a, c)), 1) as tf.Tensor1D;
      inside = tf.relu(tf.sub(d(f), 0.5)) as tf.Tensor1D; // T − β/2
      outside = tf.relu(tf.sub(1.5, d(fRef))) as tf.Tensor1D; // T + β/2
    } else {
      inside = tf.relu(tf.add(1, decisionH(head, f, c))) as tf.Tensor1D;
      outside = tf.relu(tf.sub(1, decisionH(head, fRef, c))) as tf.Tensor1D;
    }
    if (opts.mask) outside = tf.mul(outside, opts.mask) as tf.Tensor1D;
    return tf.div(tf.sum(tf.add(inside, outside)), k) as tf.Scalar;
  });
  return { loss, evaluations: 2 * k };
}

/** The triplet baseline (Table 2; batch-all, L2-normalised f and margin 0.2 are our choice): 2 distances per valid triplet. */
export function tripletLoss(f: tf.Tensor2D, labels: Int32Array, margin = 0.2): MetricLoss {
  const k = labels.length;
  const valid: number[] = []; // [a, p, n] flattened index of the K×K×K cube
  for (let a = 0; a < k; a++) for (let p = 0; p < k; p++) for (let n = 0; n < k; n++) {
    if (a !== p && labels[a] === labels[p] && labels[n] !== labels[a]) valid.push(a * k * k + p * k + n);
  }
  const loss = tf.tidy(() => {
    if (!valid.length) return tf.scalar(0);
    const u = tf.div(f, tf.add(tf.norm(f, 2, 1, true), 1e-8));
    const sq = tf.sum(tf.square(u), 1);
    const dist = tf.relu(tf.sub(tf.add(tf.expandDims(sq, 1), tf.expandDims(sq, 0)), tf.mul(2, tf.matMul(u, u, false, true)))); // [K, K]
    const cube = tf.add(tf.sub(tf.expandDims(dist, 2), tf.expandDims(dist, 1)), margin); // d(a,p) − d(a,n) + m
    // a mask instead of gather: gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks
    const mask = tf.buffer([k * k * k], 'float32');
    for (const v of valid) mask.set(1, v);
    return tf.div(tf.sum(tf.mul(tf.relu(tf.reshape(cube, [-1])), mask.toTensor())), valid.length) as tf.Scalar;
  });
  return { loss, evaluations: 2 * valid.length };
}

/** Rows of x by a one-hot matrix product (gather's gradient is missing on the wasm backend). */
const select = (x: tf.Tensor2D, rows: number[]) => tf.matMul(tf.oneHot(tf.tensor1d(rows, 'int32'), x.shape[0]).toFloat(), x) as tf.Tensor2D;

/**
 * (N+M)-tuplet clusters loss of [6] (as IDFERM Secs. 2 and 4 describe it), mined inside the batch: for each query,
 * positives = the query and same-label images of other subjects, negatives =
 * the same subject's other expressions (plus `extraNeg`, the subject's
 * generated neutral faces, for "Data Augmentation" [7], our reading).
 * Queries with no negative contribute nothing (mining found none).
 */
export function tupletClustersLoss(head: tf.LayersModel, f: tf.Tensor2D, labels: Int32Array, subjects: string[], extraNeg: tf.Tensor2D | null = null): MetricLoss & { queriesWithNegatives: number } {
  const k = labels.length;
  let evaluations = 0, used = 0;
  const pos: number[][] = [], neg: number[][] = [];
  for (let i = 0; i < k; i++) {
    const p = [i], n: number[] = [];
    for (let j = 0; j < k; j++) {
      if (j !== i && labels[j] === labels[i] && subjects[j] !== subjects[i]) p.push(j);
      if (subjects[j] === subjects[i] && labels[j] !== labels[i]) n.push(j);
      if (extraNeg && subjects[j] === subjects[i]) n.push(k + j);
    }
    pos.push(p); neg.push(n);
  }
  const loss = tf.tidy(() => {
    const all = extraNeg ? tf.concat([f, extraNeg]) as tf.Tensor2D : f;
    const terms: tf.Scalar[] = [];
    for (let i = 0; i < k; i++) {
      if (!neg[i].length) continue;
      used++;
      const fp = select(all, pos[i]);
      const fn = select(all, neg[i]);
      const c = tf.mean(fp, 0, true) as tf.Tensor2D; // c+ includes the query
      const hp = decisionH(head, fp, tf.tile(c, [pos[i].length, 1]) as tf.Tensor2D);
      const hn = decisionH(head, fn, tf.tile(c, [neg[i].length, 1]) as tf.Tensor2D);
      evaluations += pos[i].length + neg[i].length;
      terms.push(tf.add(tf.mean(tf.relu(tf.add(1, hp))), tf.mean(tf.relu(tf.sub(1, hn)))) as tf.Scalar);
    }
    return terms.length ? tf.div(tf.addN(terms), k) as tf.Scalar : tf.scalar(0);
  });
  return { loss, evaluations, queriesWithNegatives: used };
}

/** The paper's comparison counts per batch of K queries (§4, §5.5), as formulas. */
export function comparisonFormulas(k: number, n: number, m: number) {
  return [
    { loss: 'triplet / (N+1)-tuplet', formula: 'K^3', count: k ** 3 },
    { loss: 'triplet, batch-all on 2 per class', formula: 'K(K-2) triplets x 2', count: 2 * k * (k - 2) },
    { loss: 'contrastive / coupled clusters', formula: 'K(K-1)/2', count: (k * (k - 1)) / 2 },
    { loss: '(N+M)-tuplet clusters', formula: '2(N+M)K', count: 2 * (n + m) * k },
    { loss: '(N+M)-tuplet clusters, one H per sample', formula: '(N+M)K', count: (n + m) * k },
    { loss: 'RML (IDFERM)', formula: '2K', count: 2 * k },
  ];
}

export const disposeRml = (n: RmlNet) => Object.values(rmlParts(n)).forEach((p) => p.dispose());
