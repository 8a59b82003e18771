// The wasm Tile by block copies (wasm-tile.ts) must equal the cpu backend's
// Tile for every rank, repetition pattern and dtype, including the batch-norm
// gradient's [1, 1, 1, C] -> [B, H, W, C] and odd sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';

const cases: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
  { shape: [1, 1, 1, 5], reps: [3, 7, 9, 1], dtype: 'float32' },
  { shape: [2, 3], reps: [3, 2], dtype: 'float32' },
  { shape: [3, 1, 2, 4], reps: [1, 5, 3, 2], dtype: 'float32' },
  { shape: [5], reps: [7], dtype: 'int32' },
  { shape: [2, 2, 3], reps: [2, 1, 3], dtype: 'bool' },
  { shape: [1, 4, 1, 1, 3], reps: [2, 1, 3, 5, 1], dtype: 'float32' },
  { shape: [4, 3], reps: [1, 1], dtype: 'int32' },
  { shape: [2, 0, 3], reps: [2, 2, 2], dtype: 'float32' },
  { shape: [], reps: [], dtype: 'float32' },
];

function tiles(): { values: number[]; shape: number[]; dtype: string }[] {
  return cases.map((c, i) => tf.tidy(() => {
    const size = c.shape.reduce((a, b) => a * b, 1);
    const raw = Array.from({ length: size }, (_, k) => ((k * 7919 + i * 31) % 23) - 11);
    const x = c.dtype === 'bool' ? tf.tensor(raw.map((v) => v > 0), c.shape, 'bool') : tf.tensor(raw, c.shape, c.dtype);
    const y = tf.tile(x, c.reps);
    return { values: [...y.dataSync()], shape: y.shape, dtype: y.dtype };
  }));
}

test('wasm Tile by block copies equals the cpu backend on every pattern and dtype', async () => {
  await tf.setBackend('cpu');
  const reference = tiles();
  await initBackend('wasm');
  assert.ok((tf.getKernel('Tile', 'wasm')?.kernelFunc as { byBlocks?: true }).byBlocks, 'the block-copy Tile is installed');
  const before = tf.memory().numTensors;
  assert.deepEqual(tiles(), reference);
  assert.equal(tf.memory().numTensors, before);
});
