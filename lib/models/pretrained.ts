/**
 * Loading pretrained weights a user has on disk (e.g. torchvision's ImageNet
 * ResNet-18, converted offline to NHWC/HWIO): a TF.js model.json with its
 * weightsManifest and .bin files, read with fs (no tfjs-node needed).
 * A stored weight matches a model weight by its tfjs name ('layer1.0.conv1/
 * kernel') or by the torchvision state_dict name ('layer1.0.conv1.weight',
 * 'bn1.running_mean', ...). Shapes must agree; every error names the file.
 * Pretraining stages export their weights in the same format (writeWeightsFile).
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../core/atomic-write';

interface WeightsManifest { paths: string[]; weights: tf.io.WeightsManifestEntry[] }

/** Reads every weight of a tfjs model.json (weightsManifest + .bin shards). */
export function readWeightsFile(file: string): tf.NamedTensorMap {
  if (!fs.existsSync(file)) throw new Error(`pretrained weights file not found: ${file}`);
  let manifest: WeightsManifest[];
  try {
    manifest = (JSON.parse(fs.readFileSync(file, 'utf8')) as { weightsManifest: WeightsManifest[] }).weightsManifest;
  } catch (e) {
    throw new Error(`${file}: not a TF.js model.json (${(e as Error).message})`);
  }
  if (!Array.isArray(manifest)) throw new Error(`${file}: no weightsManifest (expected a TF.js model.json)`);
  const out: tf.NamedTensorMap = {};
  for (const group of manifest) {
    const buffers = group.paths.map((p) => {
      const shard = path.join(path.dirname(file), p);
      if (!fs.existsSync(shard)) throw new Error(`${file}: weight shard ${shard} not found`);
      return fs.readFileSync(shard);
    });
    const all = Buffer.concat(buffers);
    const data = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
    Object.assign(out, tf.io.decodeWeights(data, group.weights));
  }
  return out;
}

/**
 * Writes named weights as a TF.js model.json (with `meta`'s fields beside its
 * weightsManifest) + weights.bin in the same folder: the .bin first, the
 * model.json last, both atomically, so a model.json on disk is always whole.
 */
export async function writeWeightsFile(file: string, named: { name: string; tensor: tf.Tensor }[], meta: Record<string, unknown>): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(named);
  writeFileAtomic(path.join(path.dirname(file), 'weights.bin'), Buffer.from(data));
  writeFileAtomic(file, JSON.stringify({ ...meta, weightsManifest: [{ paths: ['weights.bin'], weights: specs }] }, null, 2) + '\n');
}

const TORCH_NAMES: Record<string, string> = {
  kernel: 'weight', gamma: 'weight', beta: 'bias', bias: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var',
};

/** Candidate names in a weights file for a model weight named like 'layer1.0.bn1/gamma'. */
function candidates(name: string): string[] {
  const slash = name.lastIndexOf('/');
  const torch = TORCH_NAMES[name.slice(slash + 1)];
  return torch ? [name, `${name.slice(0, slash)}.${torch}`] : [name];
}

export interface LoadReport {
  file: string;
  loaded: string[];
  /** model weights left as initialised (allowed only when listed in `keepInitialised`) */
  kept: string[];
  /** weights in the file the model has no use for (e.g. torchvision's fc) */
  unused: string[];
}

/**
 * Loads matching weights into `model`.
 * @param prefix layer-name prefix of the model (stripped before matching)
 * @param keepInitialised model weights (name prefixes) that may be absent from the file
 */
export function loadPretrainedWeights(model: tf.LayersModel, file: string, opts: { prefix?: string; keepInitialised?: string[] } = {}): LoadReport {
  const stored = readWeightsFile(file);
  const used = new Set<string>();
  const report: LoadReport = { file, loaded: [], kept: [], unused: [] };
  const missing: string[] = [];
  const values: tf.Tensor[] = model.weights.map((w) => {
    const name = w.originalName.slice((opts.prefix ?? '').length);
    const key = candidates(name).find((c) => stored[c] !== undefined);
    if (!key) {
      if ((opts.keepInitialised ?? []).some((k) => name.startsWith(k))) report.kept.push(name);
      else missing.push(name);
      return w.read();
    }
    const t = stored[key];
    if (t.shape.join('x') !== w.shape.join('x')) {
      throw new Error(`${file}: weight '${key}' has shape [${t.shape}] but the model's '${name}' needs [${w.shape}]` +
        (t.rank === 4 ? ' (convolution kernels must be converted from PyTorch OIHW to HWIO)' : ''));
    }
    used.add(key);
    report.loaded.push(name);
    return t;
  });
  if (missing.length) {
    tf.dispose(Object.values(stored));
    throw new Error(`${file}: no weights for ${missing.length} model weight(s): ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`);
  }
  model.setWeights(values);
  report.unused = Object.keys(stored).filter((k) => !used.has(k));
  tf.dispose(Object.values(stored));
  return report;
}
