/**
 * IDFERM as a Method (Liu et al. 2019, Algorithm 2 and §5.3):
 * `prepare` trains or loads the HNG stage (./idferm-hng/stage.ts) and builds one
 * reference per sample (generated, mined, oracle, other identity, blurred
 * self); each training batch holds 2 queries per class (K = 2C); a step
 * embeds queries and references with the same weights and minimises
 * softmax + λ·metric loss. The metric loss is RML (Eq. 16) for IDFERM, batch-all
 * triplet or the in-batch (N+M)-tuplet clusters loss of [6] / [7] (Tables 2–3;
 * their forms are our reading) for the baselines. Test time: one
 * centre-cropped query through the EC branch only.
 * Runs log `loss_evals`, the distance evaluations per query (x K per batch).
 * The 8-class protocol (CK+ with neutral, Table 4) runs on `loadIdfermSet(
 * config, { neutralClass: true })`; the λ and LReLU-slope sweeps (Figs. 11,
 * 12) are `idfermSweepRuns`. Table 5's "with pre-training" variants start
 * from the stage 'idferm-pretrain' (./idferm-pretrain.ts), run once through
 * `prepare` and ctx.runDependency.
 * @see notebooks/04-idferm.ipynb
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { loadDataset, loadManifestSet, type FerSet } from '../data/dataset';
import { writeManifest } from '../data/manifest';
import { withNeutralClass } from '../data/pairs';
import { rng, shuffled } from '../data/random';
import { PROJECT_ROOT } from '../paths';
import { crossEntropy, crossEntropyPerSample } from '../train/losses';
import { optimizerSpecFromConfig, parseNumberList } from './settings';
import { TrainOptimizer } from '../train/optim';
import { deriveSeed } from '../train/rng';
import { buildRmlNet, disposeRml, radialLoss, rmlForward, rmlParts, rmlPredict, tripletLoss, tupletClustersLoss } from '../models/idferm/rml';
import { disposeHngStage, generateReferences, hngStage } from './idferm-hng/stage';
import { frontalImages } from './idferm-hng/face-db';
import { hngStageDir } from './idferm-hng/settings';
import { loadCheckpoint } from '../train/checkpoint';
import { ensurePretrainManifest, pretrainedCheckpoint, pretrainRunConfig, stageOptions } from './idferm-pretrain';
import type { LrPlateau } from '../train/lr-plateau';
import type { BuildContext, DependencyRequest, Method, MethodModel, OptionValue, PrepareContext, RunConfig } from '../train/run-types';

/** The configuration IDFERM runs with: its own image size, epochs, folds and subjects (lib/config idferm* parameters), grey images. */
export function idfermConfig(config: Config): Config {
  return {
    ...config, imageSize: config.idfermImageSize, epochs: config.idfermEpochs, folds: config.idfermFolds, channels: 1,
    subjects: config.dataset === 'synfer' ? config.idfermSubjects : config.subjects,
  };
}

/**
 * The data an IDFERM run uses: `loadDataset(config)`, or with `neutralClass`
 * the 8-class protocol (Table 4; the frame choice is ours): the same rows plus each sequence's neutral
 * (onset) frame as a class of its own, whose reference is itself. The derived
 * manifest is written once under data/cache/idferm-8class/.
 */
export async function loadIdfermSet(config: Config, opts: { neutralClass?: boolean } = {}): Promise<FerSet> {
  const set = await loadDataset(config);
  if (!opts.neutralClass || set.classes.includes('neutral')) return set;
  if (!set.neutral || !set.source) throw new Error(`dataset '${set.name}' has no neutral frames: the 8-class protocol (option neutralClass) needs a neutral_path on every row`);
  const sha = createHash('sha256').update(fs.readFileSync(set.source.manifest)).digest('hex').slice(0, 12);
  const file = path.join(PROJECT_ROOT, 'data', 'cache', 'idferm-8class', `${set.name}-${sha}.csv`);
  if (!fs.existsSync(file)) writeManifest(file, withNeutralClass(set.rows));
  return loadManifestSet(file, { size: set.size, channels: set.channels, name: `${set.name}-8class` });
}

/** One run of a sensitivity sweep: the IDFERM variant with one option changed. */
export interface SweepRun { param: 'lambda' | 'lreluSlope'; value: number; variant: 'idferm'; options: { lambda?: number; lreluSlope?: number } }

/**
 * The λ (Fig. 11) and LReLU-slope (Fig. 12) sweeps of the configuration
 * (idfermLambdas, idfermSlopes). λ = 1 and slope 0.1 are the defaults, so
 * those points are the plain 'idferm' run itself (same run id).
 */
export function idfermSweepRuns(config: Config): SweepRun[] {
  return [
    ...parseNumberList(config.idfermLambdas, 'idfermLambdas').map((value) => ({ param: 'lambda' as const, value, variant: 'idferm' as const, options: { lambda: value } })),
    ...parseNumberList(config.idfermSlopes, 'idfermSlopes').map((value) => {
      if (!(value >= 0 && value < 1)) throw new Error(`idfermSlopes: LReLU slope ${value} must lie in [0, 1)`);
      return { param: 'lreluSlope' as const, value, variant: 'idferm' as const, options: { lreluSlope: value } };
    }),
  ];
}

/** Side of the training/test crops: 60 of 64 in the paper (IDFERM Sec. 5.2), the same ratio at other sizes. */
export const cropSize = (size: number) => Math.round((size * 60) / 64);

/** Queries per batch: 2 per class (K = 2C, IDFERM Sec. 5.3). */
export const queriesPerBatch = (classes: number) => 2 * classes;

/**
 * Class-balanced epoch (IDFERM Sec. 4: every training image is a query in an
 * epoch; Sec. 5.3: 2 images per class): every sample is a query at least
 * once; smaller classes are re-drawn (our choice); ceil(max_c n_c / 2) batches of 2 per class.
 */
export function classBalancedBatches(samples: Int32Array, labels: Int32Array, seed: number, perClass = 2): Int32Array[] {
  const r = rng(seed, 'idferm-batches');
  const byClass = new Map<number, number[]>();
  samples.forEach((s, i) => { const l = labels[i]; if (!byClass.has(l)) byClass.set(l, []); byClass.get(l)!.push(s); });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const queues = new Map(classes.map((c) => [c, shuffled(r, byClass.get(c)!)]));
  const pos = new Map(classes.map((c) => [c, 0]));
  const count = Math.ceil(Math.max(...classes.map((c) => byClass.get(c)!.length)) / perClass);
  const out: Int32Array[] = [];
  for (let b = 0; b < count; b++) {
    const batch: number[] = [];
    for (const c of classes) for (let k = 0; k < perClass; k++) {
      if (pos.get(c)! >= queues.get(c)!.length) { queues.set(c, shuffled(r, byClass.get(c)!)); pos.set(c, 0); }
      batch.push(queues.get(c)![pos.get(c)!]);
      pos.set(c, pos.get(c)! + 1);
    }
    out.push(Int32Array.from(batch));
  }
  return out;
}

/**
 * Subject-grouped epoch for the mining baselines ([6], (N+M)-tuplet clusters): batches of whole
 * subjects, one image per (subject, expression), so each query finds its
 * same-subject negatives and same-label positives inside the batch.
 */
export function subjectBatches(samples: Int32Array, labels: Int32Array, subjects: string[], seed: number, queries: number): Int32Array[] {
  const r = rng(seed, 'idferm-subject-batches');
  const cells = new Map<string, Map<number, number[]>>();
  samples.forEach((s, i) => {
    const subj = subjects[s];
    if (!cells.has(subj)) cells.set(subj, new Map());
    const m = cells.get(subj)!;
    if (!m.has(labels[i])) m.set(labels[i], []);
    m.get(labels[i])!.push(s);
  });
  const rounds = Math.max(...[...cells.values()].flatMap((m) => [...m.values()].map((v) => v.length)));
  const order = new Map([...cells.entries()].flatMap(([subj, m]) => [...m.entries()].map(([l, v]) => [`${subj}|${l}`, shuffled(r, v)] as const)));
  const out: Int32Array[] = [];
  for (let round = 0; round < rounds; round++) {
    let cur: number[] = [];
    for (const subj of shuffled(r, [...cells.keys()].sort())) {
      const group = [...cells.get(subj)!.keys()].sort((a, b) => a - b).map((l) => { const v = order.get(`${subj}|${l}`)!; return v[round % v.length]; });
      if (cur.length && cur.length + group.length > queries) { out.push(Int32Array.from(cur)); cur = []; }
      cur.push(...group);
    }
    if (cur.length) out.push(Int32Array.from(cur));
  }
  return out;
}

/** The expressions each subject keeps in the sparse-subject setting (our test of IDFERM's motivation, Sec. 1): `keep` of its labels, seeded per subject. */
export function sparseKeep(samples: Int32Array, labels: Int32Array, subjects: string[], keep: number, seed: number): Int32Array {
  if (keep <= 0) return samples;
  const labelsOf = new Map<string, Set<number>>();
  samples.forEach((s, i) => { const k = subjects[s]; if (!labelsOf.has(k)) labelsOf.set(k, new Set()); labelsOf.get(k)!.add(labels[i]); });
  const kept = new Map([...labelsOf.entries()].map(([k, ls]) => [k, new Set(shuffled(rng(seed, 'sparse', k), [...ls].sort((a, b) => a - b)).slice(0, keep))]));
  return Int32Array.from(Array.from(samples).filter((s, i) => kept.get(subjects[s])!.has(labels[i])));
}

type Reference = 'generated' | 'mined' | 'oracle' | 'otherIdentity' | 'selfBlur' | 'none';

export interface IdfermPrepared {
  /** one reference per dataset sample, [N, S, S, 1] in [0, 1]; null for reference 'none' */
  refs: Float32Array | null;
  subjects: string[];
  /** which identity network the HNG used (null when no HNG ran) */
  identityNet: string | null;
  hngDir: string | null;
  /** the pretraining stage run whose trunk, FC1_EC and ML branch the network starts from (option pretrain) */
  pretrained?: { runDir: string; runId: string };
}

/** A Gaussian-blurred copy (σ ≈ 1.5 px at 64 px, scaled) of every image: the 'selfBlur' control. */
function blurred(set: FerSet): Float32Array {
  const sigma = (1.5 * set.size) / 64, r = Math.max(1, Math.ceil(2 * sigma));
  const k1 = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k1.reduce((a, b) => a + b, 0);
  const k = tf.tensor1d(k1.map((v) => v / sum));
  const out = tf.tidy(() => {
    const x = tf.tensor4d(set.images, [set.labels.length, set.size, set.size, 1]);
    const h = tf.conv2d(x, tf.reshape(k, [1, 2 * r + 1, 1, 1]) as tf.Tensor4D, 1, 'same');
    return tf.conv2d(h, tf.reshape(k, [2 * r + 1, 1, 1, 1]) as tf.Tensor4D, 1, 'same');
  });
  const data = out.dataSync() as Float32Array;
  tf.dispose([k, out]);
  return data;
}

/** The references an HNG generator draws (the others come from the data). */
const GENERATED_REFERENCES: readonly Reference[] = ['generated', 'otherIdentity'];

/**
 * Each sample's reference of the given kind. With `stored` the HNG stage must be stored already (a plan's
 * task): an error names it instead of training it.
 */
export async function buildReferences(config: Config, set: FerSet, reference: Reference, hngVariant: string,
  opts: { stored?: boolean } = {}): Promise<IdfermPrepared> {
  const subjects = set.subjects;
  if (reference === 'none') return { refs: null, subjects, identityNet: null, hngDir: null };
  if (reference === 'mined') {
    if (!set.neutral) throw new Error(`dataset '${set.name}' has no neutral frames to mine references from (reference 'mined')`);
    return { refs: set.neutral, subjects, identityNet: null, hngDir: null };
  }
  if (reference === 'oracle') return { refs: await frontalImages(set), subjects, identityNet: null, hngDir: null };
  if (reference === 'selfBlur') return { refs: blurred(set), subjects, identityNet: null, hngDir: null };
  const stage = opts.stored ? await hngStage(config, hngVariant, { train: false }) : await hngStage(config, hngVariant);
  if (!stage) {
    throw new Error(`HNG stage '${hngVariant}' is not stored (${hngStageDir(config, hngVariant)}): a plan's tasks never ` +
      'train it; its stage job does (did it fail?)');
  }
  try {
    let refs = generateReferences(stage, set);
    if (reference === 'otherIdentity') {
      // each sample takes the generated face of the same-index sample of the next subject (cyclic)
      const ids = [...new Set(subjects)].sort();
      const bySubject = new Map(ids.map((s) => [s, [] as number[]]));
      subjects.forEach((s, i) => bySubject.get(s)!.push(i));
      const per = set.size * set.size, out = new Float32Array(refs.length);
      subjects.forEach((s, i) => {
        const other = bySubject.get(ids[(ids.indexOf(s) + 1) % ids.length])!;
        const j = other[bySubject.get(s)!.indexOf(i) % other.length];
        out.set(refs.subarray(j * per, (j + 1) * per), i * per);
      });
      refs = out;
    }
    return { refs, subjects, identityNet: stage.identity.description, hngDir: stage.dir };
  } finally {
    disposeHngStage(stage);
  }
}

/** Per-image zero mean / unit variance (IDFERM Sec. 5.2; "per image" is our reading). */
const standardise = (x: tf.Tensor4D) => tf.tidy(() => {
  const { mean, variance } = tf.moments(x, [1, 2, 3], true);
  return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
});

/** One of the 10 views (5 crops x flip, IDFERM Sec. 5.2) per sample, the same for a query and its reference (our choice: one random view per use, the pair kept aligned). */
function sameViews(xs: tf.Tensor4D[], crop: number, r: () => number): tf.Tensor4D[] {
  const [n, size] = xs[0].shape;
  const m = size - crop;
  const corners = [[m / 2, m / 2], [0, 0], [0, m], [m, 0], [m, m]].map(([a, b]) => [Math.floor(a), Math.floor(b)]);
  const views = Array.from({ length: n }, () => ({ corner: corners[Math.floor(r() * 5)], flip: r() < 0.5 }));
  return xs.map((x) => tf.tidy(() => tf.concat(views.map((v, i) => {
    const c = tf.slice(x, [i, v.corner[0], v.corner[1], 0], [1, crop, crop, -1]);
    return v.flip ? tf.reverse(c, 2) : c;
  })) as tf.Tensor4D));
}

const centreCrop = (x: tf.Tensor4D, crop: number) => {
  const o = Math.floor((x.shape[1] - crop) / 2);
  return tf.slice(x, [0, o, o, 0], [-1, crop, crop, -1]) as tf.Tensor4D;
};

/** The parts a fine-tuning run takes from the pretraining stage; FC2_EC (the classes change) and the metric head start afresh (our choice; IDFERM Sec. 5.3 does not say). */
export const PRETRAINED_PARTS = ['trunk', 'ec1', 'ml'] as const;

async function buildIdferm(ctx: BuildContext, stage: { learningRate: number; perClass: number } = { learningRate: ctx.config.idfermLearningRate, perClass: 2 }): Promise<MethodModel> {
  const o = ctx.options;
  const prepared = ctx.prepared as IdfermPrepared;
  const mode = String(o.loss) as 'softmax' | 'rml' | 'triplet' | 'nm';
  const classes = ctx.data.classes.length;
  const crop = cropSize(ctx.data.size);
  if (ctx.data.channels !== 1) throw new Error('IDFERM runs on grey faces: use idfermConfig(config) (channels 1)');
  const net = buildRmlNet({
    size: crop, classes, width: ctx.config.idfermRmlWidth, dIn: ctx.config.idfermRmlWidth * 8, dOut: ctx.config.idfermRmlWidth * 4, d: ctx.config.idfermRmlWidth * 2,
    lreluSlope: Number(o.lreluSlope), connect: Boolean(o.connect), seed: ctx.seed,
  });
  if (prepared.pretrained) {
    const file = pretrainedCheckpoint(prepared.pretrained.runDir);
    try {
      await loadCheckpoint(file, Object.fromEntries(PRETRAINED_PARTS.map((k) => [k, net[k]])), {});
    } catch (e) {
      disposeRml(net);
      throw new Error(`IDFERM option pretrain: the network cannot start from the pretraining stage ${prepared.pretrained.runId}: ${(e as Error).message}`);
    }
  }
  // the profile's shared schedule (lite: the rate drops tenfold late in training, as for every method there)
  const { schedule } = optimizerSpecFromConfig(ctx.config);
  const optimizer = new TrainOptimizer({ kind: 'momentum', learningRate: stage.learningRate, momentum: 0.9, weightDecay: 1e-4, schedule });
  const parts = rmlParts(net);
  const variables = Object.values(parts).flatMap((p) => p.trainableWeights.map((w) => w.read() as tf.Variable));
  const needsRef = mode === 'rml' || Boolean(o.dataAug);
  if (needsRef && !prepared.refs) throw new Error(`variant needs references but reference is 'none'`);
  const per = ctx.data.size * ctx.data.size;
  const refsOf = (samples: Int32Array) => {
    const out = new Float32Array(samples.length * per);
    samples.forEach((s, i) => out.set(prepared.refs!.subarray(s * per, (s + 1) * per), i * per));
    return tf.tensor4d(out, [samples.length, ctx.data.size, ctx.data.size, 1]);
  };
  const lambda = Number(o.lambda);
  // 8-class protocol (Table 4; our reading of Sec. 5.5): no reference term for neutral queries; with genAsNeutral the generated
  // references of expressive queries also enter the softmax, labelled neutral
  const neutral = ctx.data.classes.indexOf('neutral');
  if (o.neutralClass && neutral < 0) throw new Error(`option neutralClass needs a 'neutral' class in the data (use loadIdfermSet(config, { neutralClass: true }))`);
  const genAsNeutral = Boolean(o.neutralClass) && Boolean(o.genAsNeutral) && needsRef;
  return {
    parts,
    optimizers: { model: optimizer },
    batches(samples, labels, seed) {
      const kept = sparseKeep(samples, labels, prepared.subjects, Number(o.keepExpressions), deriveSeed(ctx.config.seed, 'sparse'));
      const labelOf = new Map(Array.from(samples, (s, i) => [s, labels[i]] as const));
      const keptLabels = Int32Array.from(kept, (s) => labelOf.get(s)!);
      return mode === 'nm'
        ? subjectBatches(kept, keptLabels, prepared.subjects, seed, queriesPerBatch(classes))
        : classBalancedBatches(kept, keptLabels, seed, stage.perClass);
    },
    trainStep(batch, step) {
      const labels = batch.labels.dataSync() as Int32Array;
      const subj = Array.from(batch.samples, (s) => prepared.subjects[s]);
      const ref = needsRef ? refsOf(batch.samples) : null;
      const [xq, xr] = sameViews(ref ? [batch.target, ref] : [batch.target], crop, step.rng);
      let logits: tf.Tensor2D | undefined, evals = 0;
      const parts: Record<string, tf.Scalar> = {};
      const loss = optimizer.step(() => {
        const k = labels.length;
        const x = standardise(xr ? tf.concat([xq, xr]) as tf.Tensor4D : xq); // queries and references share weights and BN statistics
        const out = rmlForward(net, x, true, ctx.config.idfermDropout, step.seed);
        const q = { logits: tf.slice(out.logits, [0, 0], [k, -1]) as tf.Tensor2D, f: tf.slice(out.f, [0, 0], [k, -1]) as tf.Tensor2D };
        const fRef = xr ? tf.slice(out.f, [k, 0], [k, -1]) as tf.Tensor2D : null;
        logits = tf.keep(q.logits);
        const expressive = neutral >= 0 ? tf.tensor1d(Array.from(labels, (l) => (l === neutral ? 0 : 1)), 'float32') : undefined;
        const ce = genAsNeutral && expressive
          ? tf.div(tf.add(tf.sum(crossEntropyPerSample(q.logits, batch.labels)),
            tf.sum(tf.mul(crossEntropyPerSample(tf.slice(out.logits, [k, 0], [k, -1]) as tf.Tensor2D, tf.fill([k], neutral, 'int32') as tf.Tensor1D), expressive))),
          tf.add(k, tf.sum(expressive))) as tf.Scalar // Algorithm 2, line 5, over the queries and the expressive queries' references (as neutral)
          : crossEntropy(q.logits, batch.labels); // Algorithm 2, line 5: queries only (Sec. 4)
        if (mode === 'softmax') return ce;
        const m = mode === 'rml'
          ? radialLoss(net.head, q.f, fRef!, batch.labels, classes, { centre: o.centre as 'batch' | 'batch-stopgrad', metric: o.metric as 'adaptive' | 'fixed', mask: expressive })
          : mode === 'triplet' ? tripletLoss(q.f, labels) : tupletClustersLoss(net.head, q.f, labels, subj, o.dataAug ? fRef : null);
        evals = m.evaluations;
        parts.ce = tf.keep(ce);
        parts.metric = tf.keep(m.loss);
        return tf.add(ce, tf.mul(lambda, m.loss)) as tf.Scalar; // Algorithm 2, line 6
      }, variables);
      tf.dispose([xq, ...(xr ? [xr] : []), ...(ref ? [ref] : [])]);
      return { losses: { loss, ...parts, evals: tf.scalar(evals / labels.length) }, logits };
    },
    predict: (batch) => tf.tidy(() => rmlPredict(net, standardise(centreCrop(batch.target, crop)))),
    features: (batch) => tf.tidy(() => {
      const out = rmlForward(net, standardise(centreCrop(batch.target, crop)), false);
      return { e: out.e, f: out.f };
    }),
    dispose: () => undefined,
  };
}

/** The paper's halve-and-reload rule (IDFERM Sec. 5.3, stated for the pretraining) when idfermLrPlateau is on (paper profile), for fine-tuning and pretraining alike (our choice). */
export const idfermLrPlateau = (config: RunConfig): LrPlateau | null => (config.idfermLrPlateau
  ? { valShare: config.idfermValShare, patience: config.idfermLrPatience, rise: config.idfermLrRise, factor: 0.5 }
  : null);

const opt = (doc: string, def: OptionValue, oneOf?: readonly OptionValue[]) => ({ doc, default: def, ...(oneOf ? { oneOf } : {}) });

/** The configuration prepare hands to the HNG stage and the data loaders. */
const prepareConfig = (c: RunConfig) => ({ ...c, force: false }) as unknown as Config;
/** The reference a variant's options ask for ('none' when its loss uses none). */
const referenceOf = (o: Record<string, OptionValue>): Reference =>
  (o.loss === 'rml' || o.dataAug === true ? o.reference as Reference : 'none');

/** The pretraining-stage run (Table 5) a fine-tuning run starts from; null without option pretrain. */
async function pretrainRequest(c: RunConfig): Promise<DependencyRequest | null> {
  const o = c.options;
  if (o.pretrain === 'none') return null;
  const manifest = await ensurePretrainManifest(prepareConfig(c));
  return { method: 'idferm-pretrain', variant: String(o.pretrain), options: stageOptions(o), ...pretrainRunConfig(c, manifest) };
}

export const idfermMethod: Method = {
  name: 'idferm',
  paper: 'idferm',
  description: 'IDFERM: HNG-generated frontal neutral references as hard negatives + radial metric learning, jointly with softmax',
  options: {
    loss: opt('metric loss on the ML branch: none (softmax only), rml (Eq. 16), triplet, nm ((N+M)-tuplet clusters of [6])', 'rml', ['softmax', 'rml', 'triplet', 'nm']),
    reference: opt('where the reference comes from (the paper uses generated ones and names mined ones, IDFERM abstract and Sec. 3; oracle, otherIdentity and selfBlur are our controls)', 'generated', ['generated', 'mined', 'oracle', 'otherIdentity', 'selfBlur', 'none']),
    hngVariant: opt('the HNG variant that generates the references (lib/experiments/idferm-hng HNG_VARIANTS)', 'full'),
    dataAug: opt('"Data Augmentation" [7] (Tables 2–3; our reading): the generated neutral face joins the (N+M) negatives', false),
    lambda: opt('weight λ of the metric loss in the joint objective (Algorithm 2, line 6; Sec. 5.3; Fig. 11)', 1),
    lreluSlope: opt('LReLU slope in the RML network (Fig. 12)', 0.1),
    metric: opt('adaptive H (Eq. 14) or fixed thresholds with Euclidean distance (Eq. 8, T = 1, β = 1)', 'adaptive', ['adaptive', 'fixed']),
    centre: opt('class centres: batch means with or without gradient (Algorithm 2, line 3)', 'batch', ['batch', 'batch-stopgrad']),
    connect: opt('connecting layer from the EC branch into the ML branch (Eq. 17)', true),
    keepExpressions: opt('sparse subjects (our test of the motivation of IDFERM Sec. 1): each training subject keeps this many of its expressions; 0 keeps all', 0),
    neutralClass: opt('8-class protocol (Table 4): the neutral frames are a class (data: loadIdfermSet(config, { neutralClass: true })); no reference term for neutral queries', false),
    genAsNeutral: opt('8-class protocol: the generated references of expressive queries also train the softmax as "neutral" (our reading of Sec. 5.5 and Fig. 13b)', true),
    pretrain: opt('start from the RML pretraining stage on the face database (Table 5): none, joint (softmax + RML, the paper\'s) or softmax; its trunk, FC1_EC and ML branch are loaded, FC2_EC and the metric head re-initialised', 'none', ['none', 'joint', 'softmax']),
  },
  variants: {
    softmax: { description: 'softmax only on the EC branch (no reference, no metric loss)', options: { loss: 'softmax', reference: 'none' } },
    idferm: { description: 'IDFERM: softmax + RML with HNG-generated references' },
    'idferm-oracle': { description: 'RML with the ground-truth frontal neutral face (synthetic data only)', options: { reference: 'oracle' } },
    'idferm-mined': { description: 'RML with the mined onset (neutral) frame of the sequence', options: { reference: 'mined' } },
    'idferm-other-identity': { description: 'control: the generated neutral face of another subject', options: { reference: 'otherIdentity' } },
    'idferm-self-blur': { description: 'control: a blurred copy of the query itself', options: { reference: 'selfBlur' } },
    'idferm-fixed-threshold': { description: 'RML with fixed thresholds and Euclidean distance (tests the adaptive part)', options: { metric: 'fixed' } },
    'idferm-no-connect': { description: 'no connecting layer (the ML branch reads the conv features only)', options: { connect: false } },
    'idferm-noid-hng': { description: 'references from the HNG trained without the identity loss', options: { hngVariant: 'no-id' } },
    triplet: { description: 'softmax + batch-all triplet loss (Table 2)', options: { loss: 'triplet', reference: 'none' } },
    '2bnm': { description: '2B(N+M)Softmax [6]: (N+M)-tuplet clusters loss with identity-aware mining (IDFERM Sec. 2)', options: { loss: 'nm', reference: 'none' } },
    'data-aug': { description: 'Data Augmentation [7]: (N+M) loss with the generated neutral face as an extra negative (our reading of Sec. 5.5)', options: { loss: 'nm', dataAug: true } },
    'softmax-sparse': { description: 'softmax only, training subjects keep 2 expressions', options: { loss: 'softmax', reference: 'none', keepExpressions: 2 } },
    '2bnm-sparse': { description: '2B(N+M), training subjects keep 2 expressions (few negatives to mine)', options: { loss: 'nm', reference: 'none', keepExpressions: 2 } },
    'idferm-sparse': { description: 'IDFERM, training subjects keep 2 expressions', options: { keepExpressions: 2 } },
    'idferm-8class': { description: 'IDFERM on the 8-class protocol (neutral frames as a class; generated references also as neutral)', options: { neutralClass: true } },
    'softmax-8class': { description: 'softmax only on the 8-class protocol', options: { loss: 'softmax', reference: 'none', neutralClass: true } },
    'idferm-pretrained': { description: 'IDFERM fine-tuned from the RML network pretrained on the face database (Table 5, with pre-training)', options: { pretrain: 'joint' } },
    '2bnm-pretrained': { description: '2B(N+M)Softmax fine-tuned from the same pretrained RML network (Table 5, with pre-training)', options: { loss: 'nm', reference: 'none', pretrain: 'joint' } },
  },
  defaultVariant: 'idferm',
  inputs: () => ({ train: 'target', test: 'target' }),
  async prepare(ctx: PrepareContext) {
    const o = ctx.config.options;
    const config = prepareConfig(ctx.config);
    const set = await loadIdfermSet(config, { neutralClass: o.neutralClass === true });
    if (ctx.config.data && ctx.config.data.samples !== set.labels.length) {
      throw new Error(`IDFERM prepare: the run's dataset has ${ctx.config.data.samples} samples but loadIdfermSet(config${o.neutralClass ? ', { neutralClass: true }' : ''}) gives ${set.labels.length}; run IDFERM variant '${ctx.config.variant}' on that set (with idfermConfig(config))`);
    }
    const prepared = await buildReferences(config, set, referenceOf(o), String(o.hngVariant), { stored: ctx.stagesStored });
    const pretrain = await pretrainRequest(ctx.config);
    return pretrain ? { ...prepared, pretrained: await ctx.runDependency(pretrain) } : prepared;
  },
  async stages(ctx) {
    const o = ctx.config.options;
    const pretrain = await pretrainRequest(ctx.config);
    return [
      ...(GENERATED_REFERENCES.includes(referenceOf(o))
        ? [{ kind: 'hng' as const, config: prepareConfig(ctx.config), variant: String(o.hngVariant) }] : []),
      ...(pretrain ? [{ kind: 'run' as const, request: pretrain }] : []),
    ];
  },
  build: (ctx) => buildIdferm(ctx),
  lrPlateau: idfermLrPlateau,
};

/**
 * Stage C (IDFERM Sec. 5.3): the RML network trained on the face database's four
 * expressions with softmax + RML, each query's true neutral face as its
 * reference (none for neutral queries); its test accuracy is on held-out
 * face-db subjects. Fine-tuning variants start from it (option pretrain).
 */
export const idfermPretrainMethod: Method = {
  name: 'idferm-pretrain',
  paper: 'idferm',
  description: 'IDFERM stage C: the RML network pretrained on the face database (Multi-PIE in the paper) with softmax + RML, true neutral faces as references',
  options: { lreluSlope: idfermMethod.options.lreluSlope, connect: idfermMethod.options.connect },
  variants: {
    joint: { description: 'softmax + RML (the joint loss, IDFERM Sec. 5.3)' },
    softmax: { description: 'softmax only' },
  },
  defaultVariant: 'joint',
  inputs: () => ({ train: 'target', test: 'target' }),
  async prepare(ctx) {
    const set = await loadDataset({ ...ctx.config, force: false } as unknown as Config);
    if (!set.neutral) throw new Error(`RML pretraining: the face database '${set.name}' has no neutral_path (each query's true neutral face)`);
    if (!set.classes.includes('neutral')) throw new Error(`RML pretraining: the face database '${set.name}' has no 'neutral' class`);
    return { refs: set.neutral, subjects: set.subjects, identityNet: null, hngDir: null } satisfies IdfermPrepared;
  },
  build(ctx) {
    const base = Object.fromEntries(Object.entries(idfermMethod.options).map(([k, v]) => [k, v.default]));
    const options = { ...base, ...ctx.options, loss: ctx.config.variant === 'softmax' ? 'softmax' : 'rml', reference: 'mined', neutralClass: true, genAsNeutral: false };
    return buildIdferm({ ...ctx, options }, { learningRate: ctx.config.idfermPretrainLearningRate, perClass: Math.max(2, Math.floor(ctx.config.idfermPretrainBatch / ctx.data.classes.length)) });
  },
  lrPlateau: idfermLrPlateau,
};

/** Whether a variant runs on the 8-class protocol (its data: loadIdfermSet(config, { neutralClass: true })). */
export const usesNeutralClass = (variant: string): boolean => idfermMethod.variants[variant]?.options?.neutralClass === true;

export { disposeRml };
