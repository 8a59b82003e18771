/**
 * Feature extractors shared by the four papers, as tf.layers functional
 * models (NHWC) whose outputs are [features, ...feature maps]:
 * - 'lite-cnn': 4 blocks of Conv3x3 -> BN -> ReLU -> MaxPool2, then global
 *   average pooling (the lite profile's backbone, our choice);
 * - 'lite-resnet': a narrow ResNet with one BasicBlock per stage and a
 *   stride-2 3x3 stem (our lite stand-in for ResNet-18);
 * - 'resnet18': torchvision's ResNet-18 (SPNDL Sec. 4.2, GNDL Sec. 4.2), with layer names
 *   following torchvision (conv1, bn1, layer1.0.conv1, ...) so converted
 *   weights load by name, and explicit symmetric padding so they line up.
 * Weights are initialised from a seed, so the same seed gives the same net.
 * @see notebooks/02-spndl.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { SeedSequence } from '../train/rng';

export const BACKBONES = ['lite-cnn', 'lite-resnet', 'resnet18'] as const;
export type BackboneName = (typeof BACKBONES)[number];

export interface BackboneOptions {
  /** [H, W, C] */
  inputShape: [number, number, number];
  /** base number of filters (lite nets; ResNet-18 always uses 64) */
  width?: number;
  seed: number;
  /** prefix for layer names, so two backbones can live in one model */
  prefix?: string;
}

export interface Backbone {
  name: BackboneName;
  /** outputs [features [B, D], ...maps [B, h, w, c]] */
  model: tf.LayersModel;
  featureDim: number;
  /** names of the feature maps, in output order */
  mapNames: string[];
}

// PyTorch's BN defaults: eps 1e-5, running-average momentum 0.1 (= tfjs 0.9)
const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: 0.9, epsilon: 1e-5 });

function conv(name: string, filters: number, kernel: number, strides: number, seeds: SeedSequence, padding: 'same' | 'valid') {
  return tf.layers.conv2d({
    name, filters, kernelSize: kernel, strides, padding, useBias: false,
    kernelInitializer: tf.initializers.heNormal({ seed: seeds.next() }),
  });
}

/** Symmetric zero padding + 'valid' conv: matches PyTorch's padding for stride 2 (tf 'same' does not). */
function paddedConv(x: tf.SymbolicTensor, name: string, filters: number, kernel: number, strides: number, seeds: SeedSequence): tf.SymbolicTensor {
  const pad = Math.floor(kernel / 2);
  const padded = pad ? tf.layers.zeroPadding2d({ name: `${name}.pad`, padding: [[pad, pad], [pad, pad]] }).apply(x) as tf.SymbolicTensor : x;
  return conv(name, filters, kernel, strides, seeds, 'valid').apply(padded) as tf.SymbolicTensor;
}

const relu = (x: tf.SymbolicTensor, name: string) => tf.layers.reLU({ name }).apply(x) as tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

function liteCnn(input: tf.SymbolicTensor, width: number, seeds: SeedSequence, p: string) {
  const maps: tf.SymbolicTensor[] = [];
  let x = input;
  [1, 2, 4, 8].forEach((mult, i) => {
    const name = `${p}block${i + 1}`;
    x = apply(conv(`${name}.conv`, width * mult, 3, 1, seeds, 'same'), x); // [B,h,w,c]
    x = relu(apply(bn(`${name}.bn`), x), `${name}.relu`);
    x = apply(tf.layers.maxPooling2d({ name: `${name}.pool`, poolSize: 2, strides: 2 }), x); // [B,h/2,w/2,c]
    maps.push(x);
  });
  return { maps, names: maps.map((_, i) => `block${i + 1}`), featureDim: width * 8 };
}

function basicBlock(x: tf.SymbolicTensor, name: string, filters: number, strides: number, seeds: SeedSequence): tf.SymbolicTensor {
  const inFilters = x.shape[3];
  let y = paddedConv(x, `${name}.conv1`, filters, 3, strides, seeds);
  y = relu(apply(bn(`${name}.bn1`), y), `${name}.relu1`);
  y = paddedConv(y, `${name}.conv2`, filters, 3, 1, seeds);
  y = apply(bn(`${name}.bn2`), y);
  let shortcut = x;
  if (strides !== 1 || inFilters !== filters) {
    shortcut = apply(conv(`${name}.downsample.0`, filters, 1, strides, seeds, 'valid'), x);
    shortcut = apply(bn(`${name}.downsample.1`), shortcut);
  }
  return relu(apply(tf.layers.add({ name: `${name}.add` }), [y, shortcut]), `${name}.relu2`);
}

function resnet(input: tf.SymbolicTensor, stem: 'imagenet' | 'lite', stemFilters: number, widths: number[], blocks: number[], seeds: SeedSequence, p: string) {
  let x: tf.SymbolicTensor;
  if (stem === 'imagenet') {
    x = paddedConv(input, `${p}conv1`, stemFilters, 7, 2, seeds); // [B,H/2,W/2,64]
    x = relu(apply(bn(`${p}bn1`), x), `${p}relu`);
    // zero padding equals PyTorch's -inf padding here: inputs are >= 0 after ReLU
    x = apply(tf.layers.zeroPadding2d({ name: `${p}maxpool.pad`, padding: [[1, 1], [1, 1]] }), x);
    x = apply(tf.layers.maxPooling2d({ name: `${p}maxpool`, poolSize: 3, strides: 2, padding: 'valid' }), x); // [B,H/4,W/4,64]
  } else {
    x = paddedConv(input, `${p}conv1`, stemFilters, 3, 2, seeds); // [B,H/2,W/2,c]
    x = relu(apply(bn(`${p}bn1`), x), `${p}relu`);
  }
  const maps: tf.SymbolicTensor[] = [];
  widths.forEach((filters, s) => {
    for (let b = 0; b < blocks[s]; b++) {
      x = basicBlock(x, `${p}layer${s + 1}.${b}`, filters, b === 0 && s > 0 ? 2 : 1, seeds);
    }
    maps.push(x);
  });
  return { maps, names: widths.map((_, s) => `layer${s + 1}`), featureDim: widths[widths.length - 1] };
}

/** Builds a backbone; `model.apply(x, { training })` returns [features, ...maps]. */
export function buildBackbone(name: BackboneName, opts: BackboneOptions): Backbone {
  if (!(BACKBONES as readonly string[]).includes(name)) throw new Error(`backbone '${name}' is not one of: ${BACKBONES.join(', ')}`);
  const [h, w, c] = opts.inputShape;
  const minSide = name === 'resnet18' ? 32 : 16;
  if (h < minSide || w < minSide) throw new Error(`backbone '${name}' needs images of at least ${minSide}x${minSide}, got ${h}x${w}`);
  const seeds = new SeedSequence(opts.seed);
  const p = opts.prefix ?? '';
  const width = opts.width ?? 16;
  const input = tf.input({ shape: [h, w, c], name: `${p}input` });
  const body = name === 'lite-cnn' ? liteCnn(input, width, seeds, p)
    : name === 'lite-resnet' ? resnet(input, 'lite', width, [width, width * 2, width * 4, width * 8], [1, 1, 1, 1], seeds, p)
      : resnet(input, 'imagenet', 64, [64, 128, 256, 512], [2, 2, 2, 2], seeds, p);
  const last = body.maps[body.maps.length - 1];
  const features = apply(tf.layers.globalAveragePooling2d({ name: `${p}gap` }), last); // [B, D]
  const model = tf.model({ inputs: input, outputs: [features, ...body.maps], name: `${p}${name}` });
  return { name, model, featureDim: body.featureDim, mapNames: body.names };
}

/** Features [B, D] and named maps of a batch. */
export function backboneForward(b: Backbone, x: tf.Tensor4D, training: boolean): { features: tf.Tensor2D; maps: Record<string, tf.Tensor4D> } {
  const [features, ...maps] = b.model.apply(x, { training }) as tf.Tensor[];
  return { features: features as tf.Tensor2D, maps: Object.fromEntries(b.mapNames.map((n, i) => [n, maps[i] as tf.Tensor4D])) };
}

/** Only the features [B, D] (the maps are computed on the way and left to tidy). */
export const backboneFeatures = (b: Backbone, x: tf.Tensor4D, training: boolean) => backboneForward(b, x, training).features;

/** The trainable variables of some layers models, in a fixed order (for an optimiser). */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}
