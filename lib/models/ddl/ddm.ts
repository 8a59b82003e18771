/**
 * DDL stage 2, the Disturbance-Disentangled Model (DDL Sec. 3.3, Table 1;
 * layer details from the authors' code): the shared trunk S_g, the expression branch S_e (5 attention
 * blocks; single-level or multi-level head) and the disturbance branch S_d
 * (5 attention blocks, 1-d feature f^d that the discriminator compares with
 * the frozen DFEM's f^p). Built as tf.layers functional models that share
 * layers: `full` (training: everything), `expression` (test time: S_g + S_e
 * only) and `maps` (the S_e outputs a_1^e..a_5^e for attention figures).
 * @see notebooks/05-ddl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { SeedSequence } from '../../train/rng';
import { apply, avgPoolFlat, bn, bnPrelu, conv, dense, maxPool, prelu, StepDropout, trunk, trunkChannels, TrunkOptions, WeightedAdd } from './layers';

type T = tf.SymbolicTensor;

/** Which expression head (Table 1): plain = on u_5 (Baseline), single = on a_5^e (Baseline_at), multi = Eq. 10 (Baseline_mat, DDL). */
export type ExpressionHead = 'plain' | 'single' | 'multi';

export interface DdmOptions extends TrunkOptions {
  /** [H, W, C] of the (cropped) network input */
  inputShape: [number, number, number];
  classes: number;
  head: ExpressionHead;
  /** build S_d (DDL variants) */
  disturbance: boolean;
  /** size of f^e and f^d (paper 128) */
  featureDim: number;
  dropout: number;
  seed: number;
}

export interface Ddm {
  /** outputs [logits, f^e] and, with S_d, [f^d, Q_d^1..Q_d^5] */
  full: tf.LayersModel;
  /** S_g + S_e only: [logits, f^e] */
  expression: tf.LayersModel;
  /** S_e block outputs a_1^e..a_5^e (plain head: u_1..u_5), and a_out for the multi head */
  maps: tf.LayersModel;
  /** the learnable δ pairs, by branch and level */
  mixes: { branch: 'e' | 'd'; level: number; layer: WeightedAdd }[];
  /** new dropout masks for the next training forward: call once per training step with the step's seed */
  setStepSeed(seed: number): void;
}

interface Branch { a: T[]; x: T[] }

/** One branch's 5 attention blocks (Eq. 8-9); x holds each block's mixed input (x_1 = u_1). */
function attentionBranch(u: T[], t: 'e' | 'd', seeds: SeedSequence, mixes: Ddm['mixes']): Branch {
  const c = trunkChannels(u[0].shape[3]!);
  const a: T[] = [], x: T[] = [];
  for (let j = 0; j < 5; j++) {
    const p = `S${t}.block${j + 1}`;
    let input = u[j];
    if (j > 0) {
      const layer = new WeightedAdd({ name: `${p}.mix` });
      mixes.push({ branch: t, level: j + 1, layer });
      input = apply(layer, [u[j], a[j - 1]]);
    }
    x.push(input);
    // g(·): BN-PReLU-Conv1x1-BN-Sigmoid -> a per-channel, per-position mask the shape of u_j
    let m = conv(bnPrelu(input, `${p}.g.pre`), `${p}.g.conv`, c[j], 1, 1, seeds, true);
    m = apply(tf.layers.activation({ name: `${p}.g.sigmoid`, activation: 'sigmoid' }), apply(bn(`${p}.g.bn`), m));
    const masked = apply(tf.layers.multiply({ name: `${p}.masked` }), [m, u[j]]);
    // h_j: BN-PReLU-Conv3x3-BN-PReLU(-MaxPool for j < 5)
    let h = conv(bnPrelu(masked, `${p}.h.pre`), `${p}.h.conv`, j < 4 ? c[j + 1] : c[4], 3, 1, seeds, true);
    h = bnPrelu(h, `${p}.h.post`);
    a.push(j < 4 ? maxPool(h, `${p}.h.pool`) : h);
  }
  return { a, x };
}

/** Eq. 10: a_1..a_4 brought to a_5's size by repeated P(·), concatenated with a_5. */
function multiLevel(a: T[]): T {
  const side = a[4].shape[1]!;
  const parts = a.map((ai, j) => {
    let y = ai;
    for (let k = 0; y.shape[1]! > side; k++) y = maxPool(y, `Se.agg${j + 1}.pool${k + 1}`);
    return y;
  });
  return apply(tf.layers.concatenate({ name: 'Se.aout', axis: -1 }), parts);
}

/** Head: AvgPool -> flatten -> Dropout -> FC(f) -> PReLU = f^e -> Dropout -> FC(K) -> PReLU = logits (the authors' code; DDL Sec. 3.3 says only "two fully-connected layers"). */
function expressionHead(map: T, o: DdmOptions, seeds: SeedSequence, drops: StepDropout[]): { logits: T; fe: T } {
  const flat = avgPoolFlat(map, 'Se.head.avg');
  const fe = prelu(dense(apply(dropout('Se.head.drop1', o, seeds, drops), flat), 'Se.head.fc1', o.featureDim, seeds), 'Se.head.fe');
  const logits = prelu(dense(apply(dropout('Se.head.drop2', o, seeds, drops), fe), 'Se.head.fc2', o.classes, seeds), 'Se.head.logits');
  return { logits, fe };
}

function dropout(name: string, o: DdmOptions, seeds: SeedSequence, drops: StepDropout[]): StepDropout {
  const layer = new StepDropout({ name, rate: o.dropout, seed: seeds.next() });
  drops.push(layer);
  return layer;
}

export function buildDdm(o: DdmOptions): Ddm {
  const seeds = new SeedSequence(o.seed);
  const input = tf.input({ shape: o.inputShape, name: 'ddm.input' });
  const u = trunk(input, 'Sg.', o, seeds);
  const mixes: Ddm['mixes'] = [];
  const drops: StepDropout[] = [];
  let headInput: T, mapOutputs: T[];
  if (o.head === 'plain') {
    headInput = u[4];
    mapOutputs = u;
  } else {
    const e = attentionBranch(u, 'e', seeds, mixes);
    headInput = o.head === 'multi' ? multiLevel(e.a) : e.a[4];
    mapOutputs = o.head === 'multi' ? [...e.a, headInput] : e.a;
  }
  const { logits, fe } = expressionHead(headInput, o, seeds, drops);
  const outputs = [logits, fe];
  if (o.disturbance) {
    const d = attentionBranch(u, 'd', seeds, mixes);
    const gap = apply(tf.layers.globalAveragePooling2d({ name: 'Sd.gap' }), d.a[4]);
    const fd = prelu(dense(apply(dropout('Sd.drop', o, seeds, drops), gap), 'Sd.fc', o.featureDim, seeds), 'Sd.fd');
    // transfer pairs (Eq. 7, as the authors' code pairs them): x_2..x_5 of S_d, then a_5^d
    outputs.push(fd, d.x[1], d.x[2], d.x[3], d.x[4], d.a[4]);
  }
  return {
    full: tf.model({ inputs: input, outputs, name: 'ddm' }),
    expression: tf.model({ inputs: input, outputs: [logits, fe], name: 'ddm-expression' }),
    maps: tf.model({ inputs: input, outputs: mapOutputs, name: 'ddm-maps' }),
    mixes,
    setStepSeed: (seed) => drops.forEach((d) => d.setStepSeed(seed)),
  };
}

export interface DdmForward {
  logits: tf.Tensor2D;
  fe: tf.Tensor2D;
  /** null without S_d */
  fd: tf.Tensor2D | null;
  qd: tf.Tensor4D[];
}

export function ddmForward(ddm: Ddm, x: tf.Tensor4D, training: boolean): DdmForward {
  const out = ddm.full.apply(x, { training }) as tf.Tensor[];
  return { logits: out[0] as tf.Tensor2D, fe: out[1] as tf.Tensor2D, fd: (out[2] as tf.Tensor2D) ?? null, qd: out.slice(3) as tf.Tensor4D[] };
}

/**
 * The discriminator D (the authors' code; DDL Sec. 3.3 gives no layout): a bias-free MLP f -> 2f -> f -> f/2 -> 1
 * with LeakyReLU(0.01), returning logits (128-256-128-64-1 in the paper size).
 */
export function buildDiscriminator(featureDim: number, seed: number): tf.LayersModel {
  const seeds = new SeedSequence(seed);
  const input = tf.input({ shape: [featureDim], name: 'D.input' });
  let x: T = input;
  [2 * featureDim, featureDim, Math.max(1, featureDim / 2)].forEach((units, i) => {
    x = apply(tf.layers.leakyReLU({ name: `D.act${i + 1}`, alpha: 0.01 }), dense(x, `D.fc${i + 1}`, units, seeds, false));
  });
  return tf.model({ inputs: input, outputs: dense(x, 'D.out', 1, seeds, false), name: 'disc' });
}
