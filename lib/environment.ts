/**
 * What a reader checks before starting: versions, backend, threads, memory.
 * @see notebooks/00-environment.ipynb
 */
import * as os from 'os';
import * as tf from '@tensorflow/tfjs';

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** Rows: component, version or value. */
export function environmentRows(): { item: string; value: string }[] {
  const cpus = os.cpus();
  return [
    { item: 'node', value: process.version },
    { item: 'platform', value: `${os.platform()} ${os.arch()}` },
    { item: 'cpu', value: `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown'}` },
    { item: 'memory', value: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB` },
    { item: 'tensorflow.js', value: tf.version.tfjs },
    ...['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu',
      'danfojs-node', 'vega', 'vega-lite', 'sharp', '@vladmandic/face-api', 'tslab']
      .map((name) => ({ item: name, value: packageVersion(name) })),
  ];
}

/** tf.memory() as rows, to show that nothing leaks between cells. */
export function memoryRows(): { item: string; value: number }[] {
  const m = tf.memory();
  return [
    { item: 'tensors alive', value: m.numTensors },
    { item: 'data buffers', value: m.numDataBuffers },
    { item: 'bytes held (MiB)', value: Math.round((m.numBytes / 2 ** 20) * 10) / 10 },
  ];
}
