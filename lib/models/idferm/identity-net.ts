/**
 * Identity networks for IDFERM's HNG losses and its identity-error evaluator.
 *
 * The paper's perceptual loss taps VGG-Face (conv layer 5) and its identity
 * loss taps the last two layers of a Light CNN (IDFERM §3, Eqs. 1 and 6);
 * neither set of weights can be downloaded here. Three stand-ins share one
 * interface, `IdentityNet.taps(x)` -> { phi, psi: [map, embedding] }:
 * - 'synthetic': a small CNN trained to tell the synthetic face-db subjects
 *   apart (our lite stand-in, IdNet-A); the evaluator IdNet-B is the same design with
 *   other widths and seed;
 * - 'face-api': @vladmandic/face-api's bundled 128-d face descriptor
 *   (a ResNet-34-like net written with tf ops, so gradients flow through it);
 * - 'file': a TF.js LayersModel on disk whose outputs are [phi map, psi map,
 *   psi embedding] (e.g. converted VGG-Face / Light-CNN taps).
 * Inputs are [B, H, W, 1] in [-1, 1] (the HNG's range).
 * @see notebooks/04-idferm.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { FACE_API_MODEL_DIR } from '../../data/preprocess/face-align';
import { SeedSequence } from '../../train/rng';
import { yieldForGpu } from '../../backend/gpu-yield';

export interface IdentityTaps {
  /** the perceptual-loss map (VGG-Face conv5 stand-in) */
  phi: tf.Tensor;
  /** the identity-loss taps (Light CNN's last two layers stand-in): [map, embedding] */
  psi: tf.Tensor[];
}

export interface IdentityNet {
  kind: 'synthetic' | 'face-api' | 'file';
  /** what a notebook should say was used */
  description: string;
  /** frozen forward pass, differentiable with respect to x ([B, H, W, 1] in [-1, 1]) */
  taps(x: tf.Tensor4D): IdentityTaps;
  /** identity embedding [B, D] (L2-normalised) for the evaluator */
  embed(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface IdNetSpec {
  size: number;
  /** base width: blocks have width x [1, 2, 4, 4] channels */
  width: number;
  embedding: number;
  subjects: number;
  seed: number;
}

const lrelu = (x: tf.SymbolicTensor, name: string) => tf.layers.leakyReLU({ alpha: 0.1, name }).apply(x) as tf.SymbolicTensor;

/**
 * IdNet (our lite design): 4 stride-2 conv blocks, GAP, an embedding, subject logits.
 * Outputs [block2 map, block4 map, embedding, logits].
 */
export function buildIdNet(spec: IdNetSpec, name = 'idnet'): tf.LayersModel {
  const seeds = new SeedSequence(spec.seed);
  const input = tf.input({ shape: [spec.size, spec.size, 1], name: `${name}.input` });
  let x = input;
  const maps: tf.SymbolicTensor[] = [];
  [1, 2, 4, 4].forEach((m, i) => {
    x = tf.layers.conv2d({ name: `${name}.conv${i + 1}`, filters: spec.width * m, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: tf.initializers.heNormal({ seed: seeds.next() }) }).apply(x) as tf.SymbolicTensor;
    x = lrelu(x, `${name}.lrelu${i + 1}`);
    maps.push(x);
  });
  const gap = tf.layers.globalAveragePooling2d({ name: `${name}.gap` }).apply(x) as tf.SymbolicTensor;
  const emb = tf.layers.dense({ name: `${name}.embedding`, units: spec.embedding, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) }).apply(gap) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ name: `${name}.logits`, units: spec.subjects, kernelInitializer: tf.initializers.glorotUniform({ seed: seeds.next() }) }).apply(emb) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [maps[1], maps[3], emb, logits], name });
}

/**
 * Trains an IdNet to classify subjects (cross-entropy, Adam), seeded.
 * @param images [N, size, size, 1] in [-1, 1]
 * @returns per-epoch mean loss and training accuracy
 */
export async function trainIdNet(net: tf.LayersModel, images: Float32Array, subjects: Int32Array, opts: { size: number; epochs: number; batchSize: number; seed: number; learningRate?: number }): Promise<{ epoch: number; loss: number; acc: number }[]> {
  const n = subjects.length, per = opts.size * opts.size;
  const optimizer = tf.train.adam(opts.learningRate ?? 2e-3);
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const curve: { epoch: number; loss: number; acc: number }[] = [];
  let state = opts.seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) { const j = Math.floor(rand() * (i + 1)); [order[i], order[j]] = [order[j], order[i]]; }
    let lossSum = 0, correct = 0;
    for (let b = 0; b < n; b += opts.batchSize) {
      const idx = order.slice(b, b + opts.batchSize);
      const xs = new Float32Array(idx.length * per);
      idx.forEach((s, i) => xs.set(images.subarray(s * per, (s + 1) * per), i * per));
      let loss = 0, hits = 0;
      tf.tidy(() => {
        const x = tf.tensor4d(xs, [idx.length, opts.size, opts.size, 1]);
        const y = tf.oneHot(tf.tensor1d(idx.map((s) => subjects[s]), 'int32'), net.outputs[3].shape[1] as number);
        let logits: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const l = (net.apply(x, { training: true }) as tf.Tensor[])[3];
          logits = tf.keep(l);
          return tf.losses.softmaxCrossEntropy(y, l) as tf.Scalar;
        }, vars);
        (optimizer as tf.Optimizer).applyGradients(grads);
        loss = value.dataSync()[0];
        hits = tf.sum(tf.equal(tf.argMax(logits!, 1), tf.argMax(y, 1))).dataSync()[0];
        logits!.dispose();
      });
      lossSum += loss * idx.length;
      correct += hits;
      await yieldForGpu();
    }
    curve.push({ epoch, loss: lossSum / n, acc: correct / n });
  }
  optimizer.dispose();
  return curve;
}

/** The 'synthetic' (or 'file') identity net around a LayersModel with outputs [phi, psiMap, psiEmbedding, ...]. */
export function identityNetFromModel(model: tf.LayersModel, kind: 'synthetic' | 'file', description: string): IdentityNet {
  return {
    kind, description,
    taps: (x) => {
      const [phi, map, emb] = model.apply(x, { training: false }) as tf.Tensor[];
      return { phi, psi: [map, emb] };
    },
    embed: (x) => tf.tidy(() => {
      const emb = (model.apply(x, { training: false }) as tf.Tensor[])[2] as tf.Tensor2D;
      return tf.div(emb, tf.add(tf.norm(emb, 2, 1, true), 1e-8)) as tf.Tensor2D;
    }),
    dispose: () => model.dispose(),
  };
}

/** Loads identity-tap weights from disk (a TF.js LayersModel model.json with >= 3 outputs: phi map, psi map, psi embedding). */
export async function loadIdentityNetFile(file: string): Promise<IdentityNet> {
  if (!fs.existsSync(file)) throw new Error(`identity network weights not found: ${file} (setting idfermIdentityWeights)`);
  // the weights are read with fs (no fetch): model.json + its .bin shards, concatenated in manifest order
  const handler: tf.io.IOHandler = {
    load: async () => {
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p))));
      const all = Buffer.concat(shards);
      return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
    },
  };
  const model = await tf.loadLayersModel(handler);
  if (model.outputs.length < 3) throw new Error(`${file}: the model has ${model.outputs.length} outputs; IDFERM needs [phi map, psi map, psi embedding]`);
  return identityNetFromModel(model, 'file', `weights from ${file}`);
}

// face-api's own types stay internal (they reference DOM types a notebook cell cannot resolve)
interface FaceApiRecognition {
  loadFromDisk(dir: string): Promise<void>;
  forwardInput(input: unknown): tf.Tensor2D;
  dispose(): void;
}

/**
 * face-api's 128-d descriptor net as a differentiable identity network: the
 * grey [-1, 1] face is tiled to RGB in [0, 255], resized to the net's 150 px
 * and passed through `forwardInput`, whose body is plain tf ops on the
 * project's engine. phi = the descriptor too (face-api exposes no inner map;
 * a caller that wants another tap supplies weights from disk instead).
 * Costly on a CPU (a ResNet-34 at 150 px): meant for real faces on a GPU.
 */
export async function faceApiIdentityNet(): Promise<IdentityNet> {
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as { tf: typeof tf; FaceRecognitionNet: new () => FaceApiRecognition; NetInput: new (inputs: (tf.Tensor3D | tf.Tensor4D)[], batch?: boolean) => unknown };
  if (api.tf.engine() !== tf.engine()) throw new Error('face-api loaded a second copy of @tensorflow/tfjs; check that node_modules holds one version');
  const net = new api.FaceRecognitionNet();
  await net.loadFromDisk(FACE_API_MODEL_DIR);
  const descriptor = (x: tf.Tensor4D): tf.Tensor2D => {
    const rgb = tf.image.resizeBilinear(tf.tile(tf.mul(tf.add(x, 1), 127.5), [1, 1, 1, 3]) as tf.Tensor4D, [150, 150]);
    // one [1, 150, 150, 3] slice per face (NetInput takes a list of single faces). Not tf.unstack: tfjs 4.22's
    // Unpack gradient calls stack(dy) and throws when the batch has one face (dy is then a tensor, not a list).
    const faces = Array.from({ length: rgb.shape[0] }, (_, i) => tf.slice(rgb, [i, 0, 0, 0], [1, -1, -1, -1]));
    return net.forwardInput(new api.NetInput(faces, true));
  };
  return {
    kind: 'face-api', description: "@vladmandic/face-api's 128-d face descriptor (ResNet-34-like), gradients through tf ops",
    taps: (x) => { const d = descriptor(x); return { phi: d, psi: [d, d] }; },
    embed: (x) => tf.tidy(() => { const d = descriptor(x); return tf.div(d, tf.add(tf.norm(d, 2, 1, true), 1e-8)) as tf.Tensor2D; }),
    dispose: () => net.dispose(),
  };
}
