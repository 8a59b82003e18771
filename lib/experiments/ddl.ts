/**
 * DDL (Ruan et al., ACM MM 2020) as methods for the shared runner:
 * - 'ddl-pretrain' (stage 0, DDL Sec. 4.2): the DDM with the plain head on
 *   a separate expression set (its data and export: ddl-pretrain.ts).
 * - 'ddl-dfem' (stage 1): the multi-task DFEM over disturbance labels; its
 *   own cached run on the disturbance database (SynFER drawn with other
 *   identities and pose/illumination on, or the user's Multi-PIE + RAF-DB
 *   manifest in the paper profile). A linear expression probe on the
 *   stop-gradient f^p gives the run's test accuracy: how much expression the
 *   disturbance features carry (the paper wants little).
 * - 'ddl' (stage 2): Baseline, Baseline_at, Baseline_mat and DDL_<factors>
 *   (Table 1); DDL variants fetch their DFEM(s) in `prepare` via
 *   ctx.runDependency, then alternate discriminator and DDM updates (D first,
 *   as the authors' code does; option updateOrder).
 * `ddlConfig` turns the notebook's configuration into DDL's settings.
 * Both stages start from stage 0 (lib/experiments/ddl-pretrain.ts: the
 * cached pretrained S_g, or the user's pretrainedWeights) unless
 * ddlPretrain is 'scratch'.
 * Notebook 05's runs and the DFEM head check are in ddl-study.ts.
 * @see notebooks/05-ddl.ipynb
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config';
import { loadDataset, type FerSet } from '../data/dataset';
import { rng, shuffled, type Rng } from '../data/random';
import { buildDdm, buildDiscriminator, Ddm, ddmForward, type ExpressionHead } from '../models/ddl/ddm';
import { buildDfem, dfemForward, Factor, FACTOR_SOURCE, factorLabels, parseFactors } from '../models/ddl/dfem';
import type { Downsample, TrunkOptions } from '../models/ddl/layers';
import { adversarialLoss, attentionTransferLoss, AtNorm, discriminatorLoss, maskedMultiTaskLoss } from '../models/ddl/losses';
import { RUN_FILES } from '../results/store';
import { loadCheckpoint } from '../train/checkpoint';
import { crossEntropy } from '../train/losses';
import { TrainOptimizer } from '../train/optim';
import { deriveSeed } from '../train/rng';
import type { BuildContext, DependencyRequest, Method, MethodModel, OptionValue, RunConfig } from '../train/run-types';
import { ddlInitStages, loadDdlWeights, prepareDdlInit, startsPretrained, type DdlInit, type DdlLoadReport } from './ddl-pretrain';
import { optimizerSpecFromConfig, resolveOptions } from './settings';

const IN_THE_WILD = ['rafdb', 'sfew'];

/**
 * DDL's settings from the notebook configuration: the ddl* parameters
 * replace the shared ones; starting from stage 0 or pretrainedWeights the
 * rate is ddlPreLearningRate (in the paper profile DDL Sec. 4.2's 1e-4),
 * else ddlLearningRate; in the
 * paper profile the learning rate drops by
 * 10 at the code's milestones scaled to the epochs ([10,18,25,32]/40 with
 * pretrained weights, [20,28,35]/40 from scratch) and the batch is 16 on
 * RAF-DB and 8 elsewhere (DDL §4.2). The short smoke/lite runs keep the
 * profile's shared schedule instead: the code's milestones scaled to a
 * dozen epochs leave the rate at 1e-6 before the model has learnt anything.
 */
export function ddlConfig(config: Config, overrides: Partial<Record<keyof Config, number | string | boolean>> = {}): Config {
  const epochs = config.ddlEpochs;
  const pre = startsPretrained({ ...config, ...overrides } as Config);
  const marks = pre ? [10, 18, 25, 32] : [20, 28, 35];
  const milestones = config.profile !== 'paper' ? []
    : [...new Set(marks.map((m) => Math.max(1, Math.round((m / 40) * epochs))).filter((m) => m < epochs))];
  const batchSize = config.profile === 'paper' ? (config.dataset === 'rafdb' ? 16 : 8) : config.ddlBatchSize;
  return {
    ...config, imageSize: config.ddlImageSize, epochs, batchSize, learningRate: pre ? config.ddlPreLearningRate : config.ddlLearningRate, folds: config.ddlFolds,
    optimizer: 'adam', weightDecay: 0,
    ...(config.profile === 'paper' ? { lrSchedule: milestones.length ? 'milestones' : 'constant', lrMilestones: milestones.join(',') } : {}),
    subjects: config.ddlSubjects, ...overrides,
  } as Config;
}

/**
 * The FER data of the DDL runs: SynFER's lab layout is the default set every notebook shares (frontal faces, like
 * CK+, MMI and Oulu-CASIA in the paper's Tables 2-3); its wild layout (RAF-DB, SFEW in Table 4) turns pose and
 * side light on (ddlPose, ddlLight), as the disturbance database does. A real dataset comes from its manifest.
 */
export function loadDdlData(cfg: Config): Promise<FerSet> {
  if (cfg.dataset !== 'synfer') return loadDataset(cfg);
  return cfg.ddlSynferMode === 'wild'
    ? loadDataset(cfg, { synfer: { mode: 'wild', pose: cfg.ddlPose, light: cfg.ddlLight } })
    : loadDataset(cfg);
}

/**
 * Random crop (+ optional horizontal flip) for training, centre crop when
 * `r` is null: the paper's 100 -> 90 geometry at any size (DDL Sec. 4.2).
 */
export function cropBatch(x: tf.Tensor4D, crop: number, r: Rng | null, flip: boolean): tf.Tensor4D {
  const [b, size, , c] = x.shape;
  if (crop > size) throw new Error(`ddlCrop=${crop} is larger than the images (${size} px)`);
  const src = x.dataSync();
  const out = new Float32Array(b * crop * crop * c);
  const mid = Math.floor((size - crop) / 2);
  for (let i = 0; i < b; i++) {
    const oy = r ? Math.floor(r() * (size - crop + 1)) : mid, ox = r ? Math.floor(r() * (size - crop + 1)) : mid;
    const mirror = !!r && flip && r() < 0.5;
    for (let y = 0; y < crop; y++) {
      for (let xx = 0; xx < crop; xx++) {
        const sx = ox + (mirror ? crop - 1 - xx : xx);
        const from = ((i * size + oy + y) * size + sx) * c, to = ((i * crop + y) * crop + xx) * c;
        for (let k = 0; k < c; k++) out[to + k] = src[from + k];
      }
    }
  }
  return tf.tensor4d(out, [b, crop, crop, c]);
}

const optimizerFor = (config: RunConfig, weightDecay: number, constant = false) => new TrainOptimizer({
  ...optimizerSpecFromConfig(config), kind: 'adam', beta1: 0.5, beta2: 0.999, weightDecay,
  ...(constant ? { schedule: { kind: 'constant' as const } } : {}),
});
/** The trunk settings (S_g and DFEM) of a configuration; runs stored before ddlDownsample existed used the stride-2 trunk. */
export const trunkOptions = (c: Pick<Config, 'ddlWidth' | 'ddlBlocks'> & { ddlDownsample?: string }): TrunkOptions =>
  ({ width: c.ddlWidth, blocks: c.ddlBlocks, downsample: (c.ddlDownsample ?? 'stride') as Downsample });
const inputShape = (c: RunConfig, channels: number): [number, number, number] => [c.ddlCrop, c.ddlCrop, channels];

// ---------------------------------------------------------------- stage 1

interface DfemPrepared {
  factors: Factor[];
  classes: string[][];
  /** per factor: label per dataset sample (-1 missing) */
  labels: Int32Array[];
  /** samples of each training subject held out of DFEM training, for the closed-set identity check */
  closedSet: Uint8Array;
  /** how the trunk starts (absent when built from labels alone, e.g. to read a stored checkpoint) */
  init?: DdlInit;
}

/** Which samples the DFEM never trains on: whole sequences (1 in 7 by hash), so identity is tested on unseen images of known people. */
function closedSetHoldOut(set: FerSet): Uint8Array {
  return Uint8Array.from(set.rows, (r) => (deriveSeed(String(r.sequence), 'closed-set') % 7 === 0 ? 1 : 0));
}

export function dfemLabels(set: FerSet, factors: Factor[]): DfemPrepared {
  const per = factors.map((f) => factorLabels(set.rows, f, `disturbance database '${set.name}'`));
  return { factors, classes: per.map((p) => p.classes), labels: per.map((p) => p.labels), closedSet: closedSetHoldOut(set) };
}

function buildDfemModel(ctx: BuildContext): MethodModel & { init: DdlLoadReport | null } {
  const { config, options } = ctx;
  const p = ctx.prepared as DfemPrepared;
  const dfem = buildDfem({
    ...trunkOptions(config), inputShape: inputShape(config, ctx.data.channels), featureDim: config.ddlFeatureDim, seed: ctx.seed,
    heads: [...p.factors.map((f, j) => ({ factor: f, classes: p.classes[j].length })),
      ...(options.expressionHead ? [{ factor: 'expr' as Factor, classes: ctx.data.classes.length }] : [])],
  });
  let init: DdlLoadReport | null = null;
  try {
    if (p.init?.weights) init = loadDdlWeights(dfem, p.init.weights, 'dfem');
  } catch (e) {
    dfem.dispose();
    throw e;
  }
  // linear probe of expression on the stop-gradient f^p: the run's test accuracy
  const pin = tf.input({ shape: [config.ddlFeatureDim] });
  const probe = tf.model({ inputs: pin, outputs: tf.layers.dense({ units: ctx.data.classes.length, kernelInitializer: tf.initializers.glorotUniform({ seed: ctx.seed + 7 }) }).apply(pin) as tf.SymbolicTensor, name: 'probe' });
  const opt = optimizerFor(config, Number(options.weightDecay));
  const probeOpt = optimizerFor(config, 0);
  const vars = dfem.trainableWeights.map((w) => w.read() as tf.Variable);
  const probeVars = probe.trainableWeights.map((w) => w.read() as tf.Variable);
  const k = p.factors.length;
  return {
    init,
    parts: { dfem, probe },
    optimizers: { model: opt, probe: probeOpt },
    batches(samples, _labels, seed, batchSize) {
      const kept = samples.filter((s) => !p.closedSet[s]);
      const order = shuffled(rng(seed, 'dfem-batches'), Array.from(kept));
      const out: Int32Array[] = [];
      for (let i = 0; i < order.length; i += batchSize) out.push(Int32Array.from(order.slice(i, i + batchSize)));
      return out;
    },
    trainStep(batch, step) {
      const x = cropBatch(batch.target, config.ddlCrop, step.rng, false); // no flip: it would mirror the pose label (our choice; the paper does not say how the DFEM is trained)
      const labels = p.labels.map((l) => tf.tensor1d(Int32Array.from(batch.samples, (s) => l[s]), 'int32'));
      if (options.expressionHead) labels.push(batch.labels);
      let fp: tf.Tensor2D | undefined;
      const loss = opt.step(() => {
        const f = dfemForward(dfem, x, true);
        fp = tf.keep(f.fp);
        return maskedMultiTaskLoss(f.heads, labels);
      }, vars);
      let logits: tf.Tensor2D | undefined;
      const probeLoss = probeOpt.step(() => {
        const z = probe.apply(fp!, { training: true }) as tf.Tensor2D;
        logits = tf.keep(z);
        return crossEntropy(z, batch.labels);
      }, probeVars);
      tf.dispose([x, fp!, ...labels.slice(0, k)]);
      return { losses: { loss, probe: probeLoss }, logits };
    },
    predict: (batch) => tf.tidy(() => probe.apply(dfemForward(dfem, cropBatch(batch.target, config.ddlCrop, null, false), false).fp) as tf.Tensor2D),
    features: (batch) => tf.tidy(() => ({ fp: dfemForward(dfem, cropBatch(batch.target, config.ddlCrop, null, false), false).fp })),
  };
}

export const ddlDfemMethod: Method = {
  name: 'ddl-dfem', paper: 'ddl',
  description: 'DDL stage 1: multi-task disturbance classifier (DFEM), masked cross-entropy over the factors; test accuracy = a linear expression probe on its stop-gradient feature',
  options: {
    factors: { doc: 'comma-separated factors: g gender, a age, r race, id identity, il illumination, p pose, oc occlusion (SynFER only)', default: 'g,a,r,id,il,p' },
    expressionHead: { doc: 'also train an expression head (the authors\' checkpoint names suggest one; the paper has none)', default: false },
    weightDecay: { doc: 'coupled L2 weight decay (the authors\' code: 5e-4)', default: 5e-4 },
  },
  variants: { default: { description: 'the factors given by the option' } },
  defaultVariant: 'default',
  inputs: () => ({ train: 'target', test: 'target' }),
  async prepare(ctx) {
    const set = await loadDataset(ctx.config as unknown as Config);
    const labels = dfemLabels(set, parseFactors(String(ctx.config.options.factors), 'ddl-dfem option factors'));
    return { ...labels, init: await prepareDdlInit(ctx) };
  },
  stages: (ctx) => ddlInitStages(ctx.config),
  build: buildDfemModel,
};

/** The DFEM run's settings for a DDL run: the disturbance database (synthetic or the user's manifest), its seed and epochs, 2 folds. */
export function dfemRunConfig(config: RunConfig | Config): Partial<Config> {
  const real = config.ddlDfemManifest.trim() !== '';
  if (!real && config.profile === 'paper' && config.dataset !== 'synfer') {
    throw new Error('FER_DDL_DFEM_MANIFEST is empty: the paper profile pretrains the DFEM on Multi-PIE + RAF-DB attributes; build a manifest with those columns (DDL Sec. 4.2) and set it');
  }
  return {
    ...(real ? { dataset: 'csv', manifest: config.ddlDfemManifest } : { dataset: 'synfer', subjects: config.ddlDfemSubjects, synferPose: config.ddlPose, synferLight: config.ddlLight }),
    seed: config.ddlDfemSeed, epochs: config.ddlDfemEpochs, folds: 2, lrSchedule: 'constant', lrMilestones: '',
  };
}

/** Factor groups of the DFEM runs a DDL variant needs: one pooled DFEM (paper) or one per source database (code). */
export function dfemGroups(factors: Factor[], mode: string): Factor[][] {
  if (!factors.length) return [];
  if (mode === 'single-masked') return [factors];
  return (['Multi-PIE', 'RAF-DB'] as const).map((src) => factors.filter((f) => FACTOR_SOURCE[f] === src)).filter((g) => g.length);
}

// ---------------------------------------------------------------- stage 2

interface DdlPrepared { dfems: { factors: Factor[]; runDir: string }[]; init?: DdlInit }

/** A built DDL model: the method's model plus its networks, for attention maps. */
export interface DdlModel extends MethodModel {
  ddm: Ddm;
  crop: number;
  /** what the DDM loaded before training (stage 0 or pretrainedWeights); null: seeded random weights */
  init: DdlLoadReport | null;
}

async function buildDdlModel(ctx: BuildContext): Promise<DdlModel> {
  const { config, options, data } = ctx;
  const prepared = (ctx.prepared ?? { dfems: [] }) as DdlPrepared;
  const disturbance = prepared.dfems.length > 0;
  const ddm = buildDdm({
    ...trunkOptions(config), inputShape: inputShape(config, data.channels), classes: data.classes.length, head: options.head as ExpressionHead,
    disturbance, featureDim: config.ddlFeatureDim, dropout: config.ddlDropout, seed: ctx.seed,
  });
  const parts: Record<string, tf.LayersModel> = { ddm: ddm.full };
  const dfems: tf.LayersModel[] = [];
  let disc: tf.LayersModel | null = null;
  let init: DdlLoadReport | null = null;
  try {
    if (prepared.init?.weights) init = loadDdlWeights(ddm.full, prepared.init.weights, 'ddm');
    for (const d of prepared.dfems) {
      const run = JSON.parse(require('fs').readFileSync(path.join(d.runDir, RUN_FILES.config), 'utf8')) as RunConfig;
      const labels = JSON.parse(require('fs').readFileSync(path.join(d.runDir, 'dfem-heads.json'), 'utf8')) as { classes: number[] };
      const m = buildDfem({
        ...trunkOptions(run), inputShape: inputShape(run, data.channels), featureDim: run.ddlFeatureDim, seed: 0,
        heads: labels.classes.map((c, j) => ({ factor: `h${j}` as Factor, classes: c })),
      });
      dfems.push(m);
      await loadCheckpoint(path.join(d.runDir, RUN_FILES.work, 'fold-0.ckpt'), { dfem: m }, {});
    }
    if (disturbance) parts.disc = disc = buildDiscriminator(config.ddlFeatureDim, ctx.seed + 11);
  } catch (e) {
    [ddm.full, ...dfems].forEach((m) => m.dispose());
    throw e;
  }
  const opt = optimizerFor(config, Number(options.weightDecay));
  const optD = optimizerFor(config, Number(options.weightDecay), true);
  const vars = ddm.full.trainableWeights.map((w) => w.read() as tf.Variable);
  const dVars = disc ? disc.trainableWeights.map((w) => w.read() as tf.Variable) : [];
  const lambda1 = Number(options.lambda1), lambda2 = Number(options.lambda2);
  const updateOrder = String(options.updateOrder) as 'd-first' | 'ddm-first';
  const flip = options.preprocess === 'paper' || IN_THE_WILD.includes(config.dataset) || config.dataset === 'synfer' && config.ddlSynferMode === 'wild';
  const center = (x: tf.Tensor4D) => cropBatch(x, config.ddlCrop, null, false);
  return {
    ddm, crop: config.ddlCrop, init,
    parts, optimizers: disc ? { model: opt, disc: optD } : { model: opt },
    trainStep(batch, step) {
      const x = cropBatch(batch.target, config.ddlCrop, step.rng, flip);
      ddm.setStepSeed(step.seed); // fresh dropout masks every step
      // frozen DFEMs on the same image: eval-mode BN unless dfemBatchStats (the authors' code's train mode)
      const targets = dfems.map((m) => tf.tidy(() => {
        const f = dfemForward(m, x, Boolean(options.dfemBatchStats));
        return { fp: f.fp, qp: f.qp };
      }));
      const parts: Record<string, tf.Scalar> = {};
      let logits: tf.Tensor2D | undefined, fd: tf.Tensor2D | undefined;
      // L_D (Eq. 6, as the authors' code computes it) on this step's f^d against every DFEM's f^p; f^d reaches only D's gradient here
      const discStep = (fake: tf.Tensor2D) => optD.step(() => discriminatorLoss(disc!.apply(fake) as tf.Tensor, targets.map((t) => disc!.apply(t.fp) as tf.Tensor)), dVars);
      const loss = opt.step(() => {
        const f = ddmForward(ddm, x, true);
        logits = tf.keep(f.logits);
        const ce = crossEntropy(f.logits, batch.labels);
        if (!disc) return ce;
        fd = tf.keep(f.fd!);
        // 'd-first' (the authors' code; the paper gives no order): D is updated on this forward's f^d before the
        // network's loss reads D, so L_adv below already sees D's new weights; D's own step
        // runs on a nested tape that only differentiates with respect to D's variables
        if (updateOrder === 'd-first') parts.disc = tf.keep(discStep(f.fd!));
        const adv = adversarialLoss(disc.apply(f.fd!) as tf.Tensor);
        const at = targets.reduce((s, t) => tf.add(s, attentionTransferLoss(f.qd, t.qp, options.atNorm as AtNorm)), tf.scalar(0)) as tf.Scalar;
        parts.ce = tf.keep(ce.clone()); parts.adv = tf.keep(adv.clone()); parts.at = tf.keep(at.clone());
        return tf.addN([ce, tf.mul(lambda1, adv), tf.mul(lambda2, at)]) as tf.Scalar; // Eq. 11
      }, vars);
      // 'ddm-first': D learns from the same f^d after the network's step, which used D's old weights
      if (disc && updateOrder === 'ddm-first') parts.disc = discStep(fd!);
      tf.dispose([x, ...(fd ? [fd] : []), ...targets.flatMap((t) => [t.fp, ...t.qp])]);
      return { losses: { loss, ...parts }, logits };
    },
    predict: (batch) => tf.tidy(() => (ddm.expression.apply(center(batch.target), { training: false }) as tf.Tensor[])[0] as tf.Tensor2D),
    features(batch) {
      return tf.tidy(() => {
        const f = ddmForward(ddm, center(batch.target), false);
        const out: Record<string, tf.Tensor2D> = { fe: f.fe };
        if (f.fd) out.fd = f.fd;
        return out;
      });
    },
    dispose: () => dfems.forEach((m) => m.dispose()),
  };
}

const FACTOR_SETS: [string, string, string][] = [
  ['ddl-g', 'g', 'DDL_g'], ['ddl-ga', 'g,a', 'DDL_ga'], ['ddl-gar', 'g,a,r', 'DDL_gar'], ['ddl-gar-id', 'g,a,r,id', 'DDL_gar&id'],
  ['ddl-gar-id-il', 'g,a,r,id,il', 'DDL_gar&id&il'], ['ddl-gar-id-il-p', 'g,a,r,id,il,p', 'DDL_gar&id&il&p'],
];
const ALL = 'g,a,r,id,il,p';

export const ddlMethod: Method = {
  name: 'ddl', paper: 'ddl',
  description: 'Deep Disturbance-Disentangled Learning: shared trunk, attention branches for expression (multi-level) and disturbance (adversarial + attention transfer from a pretrained DFEM)',
  options: {
    head: { doc: 'expression head: plain (on u_5), single (on a_5^e), multi (Eq. 10)', default: 'multi', oneOf: ['plain', 'single', 'multi'] },
    factors: { doc: 'DFEM factors of S_d (empty: no S_d, a baseline); letters as in ddl-dfem', default: '' },
    lambda1: { doc: 'weight of the adversarial term (Eq. 11; the code\'s manual mode: 0.1)', default: 1.0 },
    lambda2: { doc: 'weight of the attention-transfer term (Eq. 11)', default: 0.05 },
    atNorm: { doc: 'attention-transfer normalisation: batch tensor (code) or per sample (paper\'s vectorised form)', default: 'batch', oneOf: ['batch', 'sample'] },
    dfemMode: { doc: 'one pooled DFEM with masked heads (paper) or one per source database (code: Multi-PIE {id,il,p}, RAF-DB {g,a,r})', default: 'single-masked', oneOf: ['single-masked', 'per-source'] },
    dfemExpressionHead: { doc: 'DFEM also trained on expression (the authors\' checkpoint names suggest it; the paper does not)', default: false },
    dfemBatchStats: { doc: 'frozen DFEM uses batch statistics in BN (the authors\' code leaves it in train mode)', default: false },
    weightDecay: { doc: 'coupled L2 on the DDM and D (code: 5e-4)', default: 5e-4 },
    preprocess: { doc: 'paper: flip every dataset; code: flip only in-the-wild data (RAF-DB, SFEW, wild SynFER)', default: 'paper', oneOf: ['paper', 'code'] },
    updateOrder: { doc: "per batch: 'd-first' updates D, then the network against the updated D (the authors' code; the paper gives no order); 'ddm-first' the network against the old D, then D", default: 'd-first', oneOf: ['d-first', 'ddm-first'] },
  },
  variants: {
    baseline: { description: 'Baseline: S_g + head on u_5, cross-entropy only', options: { head: 'plain' } },
    'baseline-at': { description: 'Baseline_at: S_g + S_e attention, single-level head', options: { head: 'single' } },
    'baseline-mat': { description: 'Baseline_mat: S_g + multi-level S_e', options: { head: 'multi' } },
    ...Object.fromEntries(FACTOR_SETS.map(([v, f, label]) => [v, { description: `${label}: Baseline_mat + S_d against a DFEM on {${f}}`, options: { factors: f } }])),
    'ddl-all-no-adv': { description: 'DDL_gar&id&il&p without the adversarial term (λ1 = 0; not in the paper)', options: { factors: ALL, lambda1: 0 } },
    'ddl-all-no-at': { description: 'DDL_gar&id&il&p without attention transfer (λ2 = 0; not in the paper)', options: { factors: ALL, lambda2: 0 } },
    'ddl-all-code': { description: 'DDL_gar&id&il&p as the authors\' code: two DFEMs (per source), DFEM BN in batch mode, code preprocessing', options: { factors: ALL, dfemMode: 'per-source', dfemBatchStats: true, preprocess: 'code' } },
  },
  defaultVariant: 'ddl-gar-id-il-p',
  inputs: () => ({ train: 'target', test: 'target' }),
  async prepare(ctx): Promise<DdlPrepared> {
    const dfems = [];
    for (const { factors, request } of dfemRequests(ctx.config)) {
      const { runDir } = await ctx.runDependency(request);
      await writeDfemHeads(runDir);
      dfems.push({ factors, runDir });
    }
    return { dfems, init: await prepareDdlInit(ctx) };
  },
  stages: async (ctx) => [
    ...dfemRequests(ctx.config).map(({ request }) => ({ kind: 'run' as const, request })), ...await ddlInitStages(ctx.config),
  ],
  build: buildDdlModel,
};

/** The DFEM runs a DDL run's prepare fetches: one per factor group (none for the baselines). */
export function dfemRequests(config: RunConfig): { factors: Factor[]; request: DependencyRequest }[] {
  const o = config.options;
  return dfemGroups(parseFactors(String(o.factors), 'ddl option factors'), String(o.dfemMode)).map((factors) => {
    const options: Record<string, OptionValue> = {
      factors: factors.join(','), expressionHead: Boolean(o.dfemExpressionHead), weightDecay: Number(o.weightDecay),
    };
    return { factors, request: { method: 'ddl-dfem', variant: 'default', options, ...dfemRunConfig(config) } };
  });
}

/** Head sizes of a stored DFEM run (dfem-heads.json beside it), so stage 2 can rebuild the network without the data. */
async function writeDfemHeads(runDir: string): Promise<void> {
  const fs = await import('fs');
  const file = path.join(runDir, 'dfem-heads.json');
  if (fs.existsSync(file)) return;
  const { loadRun } = await import('../results/store');
  const run = loadRun(runDir);
  const { loadConfig } = await import('../config');
  const set = await loadDataset({ ...loadConfig({ FER_PROFILE: run.config.profile }), ...run.config } as unknown as Config);
  const p = dfemLabels(set, parseFactors(String(run.config.options.factors)));
  const classes = [...p.classes.map((c) => c.length), ...(run.config.options.expressionHead ? [set.classes.length] : [])];
  (await import('../core/atomic-write')).writeFileAtomic(file, JSON.stringify({ factors: p.factors, classes, names: p.classes }) + '\n');
}

/** Stage-0 method: the DDM with the plain head (the Baseline network) on the pretraining set's expressions. */
export const ddlPretrainMethod: Method = {
  name: 'ddl-pretrain', paper: 'ddl',
  description: 'DDL stage 0: S_g + expression head (the DDM\'s layout, Baseline network) pretrained on a separate expression set (AffectNet in the paper; a synthetic set of other faces in lite); test accuracy = held-out subjects of that set',
  options: {
    weightDecay: { doc: 'coupled L2 weight decay (as stage 2)', default: 5e-4 },
  },
  variants: { default: { description: 'expression classification on the stage-0 set' } },
  defaultVariant: 'default',
  inputs: () => ({ train: 'target', test: 'target' }),
  async build(ctx) {
    const options = { ...resolveOptions(ddlMethod, 'baseline'), weightDecay: ctx.options.weightDecay };
    return ddlMethod.build({ ...ctx, options, config: { ...ctx.config, options }, prepared: { dfems: [], init: { kind: 'scratch', weights: null } } });
  },
};
