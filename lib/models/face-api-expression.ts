/**
 * An outside reference: the off-the-shelf expression classifier bundled with
 * @vladmandic/face-api (FaceExpressionNet, a small DenseNet on 112×112 RGB
 * face crops, 7 outputs: neutral, happy, sad, angry, fearful, disgusted,
 * surprised), run on our faces without any training on them. Our classes map
 * onto its outputs by name; contempt has no output and its samples are left
 * out (counted). Weights are read from node_modules, on the project's tf engine.
 * @see notebooks/06-comparison.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { FACE_API_MODEL_DIR } from '../data/preprocess/face-align';

/** face-api's output order. */
export const FACE_API_EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;

/** Our class name -> face-api output; classes missing here (contempt) have no counterpart. */
export const FACE_API_CLASS_MAP: Readonly<Record<string, (typeof FACE_API_EXPRESSIONS)[number]>> = {
  neutral: 'neutral', anger: 'angry', disgust: 'disgusted', fear: 'fearful', happy: 'happy', sadness: 'sad', surprise: 'surprised',
};

/** face-api's input side. */
export const FACE_API_INPUT = 112;

/** For each of our classes, the face-api output index it maps to, or -1. */
export const faceApiIndexOf = (classes: readonly string[]): number[] =>
  classes.map((c) => (FACE_API_CLASS_MAP[c] ? FACE_API_EXPRESSIONS.indexOf(FACE_API_CLASS_MAP[c]) : -1));

// face-api's own types stay internal (they reference DOM types a notebook cell cannot resolve)
interface ExpressionNet {
  loadFromDisk(dir: string): Promise<void>;
  forwardInput(input: unknown): tf.Tensor2D;
  dispose(): void;
}

export interface FaceApiExpressionModel {
  /** face-api's 7 probabilities [B, 7] for faces [B, H, W, 1|3] in [0, 1] */
  probabilities(x: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** Loads the bundled expression model; a clear error when its files are missing. */
export async function loadFaceApiExpression(modelDir = FACE_API_MODEL_DIR): Promise<FaceApiExpressionModel> {
  const manifest = path.join(modelDir, 'face_expression_model-weights_manifest.json');
  if (!fs.existsSync(manifest)) {
    throw new Error(`face-api expression model not found: ${manifest} is missing (it ships with @vladmandic/face-api; reinstall the package)`);
  }
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as { tf: typeof tf; FaceExpressionNet: new () => ExpressionNet; NetInput: new (inputs: tf.Tensor3D[], batch?: boolean) => unknown };
  if (api.tf.engine() !== tf.engine()) throw new Error('face-api loaded a second copy of @tensorflow/tfjs; check that node_modules holds one version');
  const net = new api.FaceExpressionNet();
  try {
    await net.loadFromDisk(modelDir);
  } catch (e) {
    net.dispose();
    throw new Error(`cannot load face-api's expression model from ${modelDir}: ${(e as Error).message}`);
  }
  return {
    probabilities: (x) => {
      const inputs = tf.tidy(() => {
        const rgb = x.shape[3] === 1 ? tf.tile(x, [1, 1, 1, 3]) : x; // grey faces repeated to RGB
        const resized = tf.image.resizeBilinear(tf.mul(rgb, 255) as tf.Tensor4D, [FACE_API_INPUT, FACE_API_INPUT]);
        return tf.unstack(resized) as tf.Tensor3D[];
      });
      try {
        return net.forwardInput(new api.NetInput(inputs, true));
      } finally {
        tf.dispose(inputs);
      }
    },
    dispose: () => net.dispose(),
  };
}

export interface FaceApiScore {
  /** samples whose class has a face-api output */
  mappable: number;
  /** samples left out (their class has no counterpart, e.g. contempt) */
  unmappable: number;
  /** argmax over face-api's 7 outputs equals the mapped class */
  accuracyAll: number;
  /** argmax over the outputs of the classes the data contains */
  accuracyRestricted: number;
  /** 1 / mappable classes present: a uniform guess among the restricted outputs */
  chanceRestricted: number;
  /** predicted face-api output per mappable sample (restricted argmax), in sample order */
  predictions: { sample: number; label: string; predicted: string }[];
}

/**
 * Scores face-api on samples with images `[N, S, S, C]` and labels into
 * `classes`, in batches; samples of unmappable classes are counted, not scored.
 */
export function scoreFaceApi(model: FaceApiExpressionModel, images: Float32Array, size: number, channels: number, labels: ArrayLike<number>, classes: readonly string[], samples: ArrayLike<number>, batchSize = 32): FaceApiScore {
  const index = faceApiIndexOf(classes);
  const present = [...new Set(Array.from(samples, (s) => index[labels[s]]).filter((i) => i >= 0))].sort((a, b) => a - b);
  const scored = Array.from(samples).filter((s) => index[labels[s]] >= 0);
  const per = size * size * channels;
  let okAll = 0, okRestricted = 0;
  const predictions: FaceApiScore['predictions'] = [];
  for (let i = 0; i < scored.length; i += batchSize) {
    const idx = scored.slice(i, i + batchSize);
    const buf = new Float32Array(idx.length * per);
    idx.forEach((s, r) => buf.set(images.subarray(s * per, (s + 1) * per), r * per));
    const x = tf.tensor4d(buf, [idx.length, size, size, channels]);
    const p = model.probabilities(x);
    const probs = p.arraySync();
    tf.dispose([x, p]);
    idx.forEach((s, r) => {
      const truth = index[labels[s]];
      const all = probs[r].indexOf(Math.max(...probs[r]));
      const restricted = present.reduce((best, k) => (probs[r][k] > probs[r][best] ? k : best), present[0]);
      if (all === truth) okAll++;
      if (restricted === truth) okRestricted++;
      predictions.push({ sample: s, label: classes[labels[s]], predicted: FACE_API_EXPRESSIONS[restricted] });
    });
  }
  const n = scored.length;
  return {
    mappable: n, unmappable: samples.length - n, accuracyAll: n ? okAll / n : NaN, accuracyRestricted: n ? okRestricted / n : NaN,
    chanceRestricted: present.length ? 1 / present.length : NaN, predictions,
  };
}
