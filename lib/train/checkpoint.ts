/**
 * Checkpoints: one file per fold holding the weights of every model part,
 * every optimiser's state, and the trainer's JSON state (config, counters,
 * history so far). Written atomically (temp file + rename), so a run killed
 * while saving keeps its previous checkpoint.
 *
 * File layout: 'FERCKPT1', uint32 header length, header JSON, raw array bytes.
 * @see notebooks/02-spndl.ipynb
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../core/atomic-write';
import type { OptimizerState } from './optim';
import { TrainOptimizer } from './optim';

const MAGIC = 'FERCKPT1';

export interface StoredArray {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** A model part's weights in order (trainable and not, e.g. BN moving statistics). */
export async function partWeights(name: string, part: tf.LayersModel): Promise<StoredArray[]> {
  const out: StoredArray[] = [];
  for (const w of part.weights) {
    const t = w.read();
    out.push({ name: `${name}:${w.originalName}`, shape: t.shape, dtype: t.dtype as 'float32' | 'int32', data: await t.data() as Float32Array });
  }
  return out;
}

/** Restores a part's weights; shapes must match, names are reported when they do not. */
export function setPartWeights(name: string, part: tf.LayersModel, arrays: StoredArray[], file: string): void {
  const mine = arrays.filter((a) => a.name.startsWith(`${name}:`));
  if (mine.length !== part.weights.length) {
    throw new Error(`${file}: part '${name}' has ${mine.length} stored weights, the model has ${part.weights.length}`);
  }
  const tensors = part.weights.map((w, i) => {
    const a = mine[i];
    if (a.shape.join('x') !== w.shape.join('x')) {
      throw new Error(`${file}: weight ${a.name} has shape [${a.shape}], the model's ${w.originalName} has [${w.shape}]`);
    }
    return tf.tensor(a.data, a.shape, a.dtype);
  });
  part.setWeights(tensors);
  tf.dispose(tensors);
}

export interface Checkpoint<S> {
  state: S;
  parts: Record<string, tf.LayersModel>;
  optimizers: Record<string, TrainOptimizer>;
}

/** A checkpoint as bytes (the file layout above): what saveCheckpoint writes, or an in-memory snapshot. */
export async function encodeCheckpoint<S>(ck: Checkpoint<S>): Promise<Buffer> {
  const arrays: StoredArray[] = [];
  for (const [name, part] of Object.entries(ck.parts)) arrays.push(...await partWeights(name, part));
  const optimizers: Record<string, Omit<OptimizerState, 'weights'> & { weights: string[] }> = {};
  for (const [name, opt] of Object.entries(ck.optimizers)) {
    const st = await opt.getState();
    optimizers[name] = { ...st, weights: st.weights.map((w, i) => {
      const key = `opt:${name}:${i}`;
      arrays.push({ name: key, shape: w.shape, dtype: w.dtype as 'float32' | 'int32', data: w.data as Float32Array });
      return key;
    }) };
  }
  let offset = 0;
  const index = arrays.map((a) => {
    const entry = { name: a.name, shape: a.shape, dtype: a.dtype, offset, length: a.data.length };
    offset += a.data.byteLength;
    return entry;
  });
  const header = Buffer.from(JSON.stringify({ state: ck.state, optimizers, index }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  const body = Buffer.concat(arrays.map((a) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)));
  return Buffer.concat([Buffer.from(MAGIC), len, header, body]);
}

export async function saveCheckpoint<S>(file: string, ck: Checkpoint<S>): Promise<void> {
  writeFileAtomic(file, await encodeCheckpoint(ck));
}

interface Header<S> {
  state: S;
  optimizers: Record<string, Omit<OptimizerState, 'weights'> & { weights: string[] }>;
  index: { name: string; shape: number[]; dtype: 'float32' | 'int32'; offset: number; length: number }[];
}

/** `file` names the source in errors (a path, or a description of an in-memory snapshot). */
function decodeCheckpoint<S>(buf: Buffer, file: string): { header: Header<S>; arrays: Map<string, StoredArray> } {
  if (buf.subarray(0, MAGIC.length).toString() !== MAGIC) throw new Error(`${file} is not a checkpoint (bad magic)`);
  const hlen = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(buf.subarray(start, start + hlen).toString()) as Header<S>;
  const body = start + hlen;
  const arrays = new Map<string, StoredArray>();
  for (const e of header.index) {
    const bytes = buf.subarray(body + e.offset, body + e.offset + e.length * 4);
    const copy = new Uint8Array(bytes).buffer; // aligned copy
    const data = e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy);
    arrays.set(e.name, { name: e.name, shape: e.shape, dtype: e.dtype, data });
  }
  return { header, arrays };
}

/** Only the JSON state (cheap; no tensors). */
export function readCheckpointState<S>(file: string): S {
  return decodeCheckpoint<S>(fs.readFileSync(file), file).header.state;
}

/** Restores weights and optimiser states into freshly built parts; returns the JSON state. */
export async function loadCheckpoint<S>(file: string, parts: Record<string, tf.LayersModel>, optimizers: Record<string, TrainOptimizer>): Promise<S> {
  return restoreCheckpoint<S>(fs.readFileSync(file), file, parts, optimizers);
}

/** loadCheckpoint from bytes (encodeCheckpoint's, or a file's); `file` names them in errors. */
export async function restoreCheckpoint<S>(buf: Buffer, file: string, parts: Record<string, tf.LayersModel>, optimizers: Record<string, TrainOptimizer>): Promise<S> {
  const { header, arrays } = decodeCheckpoint<S>(buf, file);
  const all = [...arrays.values()];
  for (const [name, part] of Object.entries(parts)) setPartWeights(name, part, all, file);
  for (const [name, opt] of Object.entries(optimizers)) {
    const st = header.optimizers[name];
    if (!st) throw new Error(`${file}: no state for optimizer '${name}'`);
    const weights = st.weights.map((key) => {
      const a = arrays.get(key)!;
      return { name: key, shape: a.shape, dtype: a.dtype, data: a.data };
    });
    await opt.setState({ ...st, weights });
  }
  return header.state;
}
