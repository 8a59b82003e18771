/**
 * Model factories for test/data-parallel.test.ts that misbehave only inside a
 * data-parallel worker (the main thread's copy is a normal cnn3).
 */
import { isMainThread } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { buildCnn3 } from '../lib/bench/training-speed';

/** A cnn3 whose replicas throw 'replica exploded' in their forward pass. */
export function cnn3FailingInWorkers(size: number): tf.LayersModel {
  const model = buildCnn3(size, 1, 7, 1);
  if (!isMainThread) model.apply = () => { throw new Error('replica exploded'); };
  return model;
}

/** A cnn3 whose replicas have a wider first layer than the main copy. */
export function cnn3OtherShapeInWorkers(size: number): tf.LayersModel {
  return isMainThread ? buildCnn3(size, 1, 7, 1) : buildCnn3(size, 2, 7, 1);
}
