/**
 * One replica of data-parallel training (lib/train/data-parallel.ts), run in
 * a worker thread with a single-threaded backend: at each step it loads the
 * shared weights, computes the softmax cross-entropy of its slice of the
 * shared batch and the gradient of every trainable weight, and writes the
 * gradients and its non-trainable weights (batch-norm moving statistics,
 * updated by this slice) into its output buffer.
 * @see notebooks/00-environment.ipynb
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import { crossEntropy } from './losses';
import { assignFlat, buildFromFactory, offsets, sizeOf, weightLayout, type FromWorker, type ToWorker, type WorkerInit } from './data-parallel';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (msg: FromWorker) => port.postMessage(msg);

async function start(): Promise<void> {
  await initBackend();
  const model = await buildFromFactory(init.factory);
  const layout = weightLayout(model);
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const nonTrainable = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const all = [...trainable, ...nonTrainable];
  const at = offsets([...layout.trainable, ...layout.nonTrainable]);
  const weights = new Float32Array(init.weights);
  const output = new Float32Array(init.output);
  const inputShape = (model.inputs[0].shape as number[]).slice(1);
  const features = sizeOf(inputShape);
  let inputs: { x: Float32Array; labels: Int32Array } | undefined;

  const step = (msg: ToWorker): FromWorker => {
    if (msg.inputs) inputs = { x: new Float32Array(msg.inputs.x), labels: new Int32Array(msg.inputs.labels) };
    if (!inputs) throw new Error('no input buffer was shared');
    const { start, count } = msg;
    assignFlat(all, weights);
    const x = tf.tensor(inputs.x.subarray(start * features, (start + count) * features), [count, ...inputShape], 'float32');
    const labels = tf.tensor1d(inputs.labels.subarray(start, start + count), 'int32');
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, labels), trainable);
    const missing: number[] = [];
    trainable.forEach((v, k) => {
      const g = grads[v.name];
      if (g) output.set(g.dataSync() as Float32Array, at[k]);
      else missing.push(k);
    });
    nonTrainable.forEach((v, k) => output.set(v.dataSync() as Float32Array, at[trainable.length + k]));
    const loss = value.dataSync()[0];
    tf.dispose([x, labels, value, ...Object.values(grads)]);
    return { type: 'done', step: msg.step, loss, tensors: tf.memory().numTensors, missing };
  };

  port.on('message', (msg: ToWorker) => {
    try {
      send(step(msg));
    } catch (e) {
      send({ type: 'error', step: msg.step, message: (e as Error).message });
    }
  });
  send({ type: 'ready', layout });
}

start().catch((e: Error) => send({ type: 'error', step: null, message: e.message }));
