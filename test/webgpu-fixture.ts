/**
 * Shared by the webgpu tests: the backend is chosen once per file (forced to
 * webgpu, so a software adapter such as lavapipe counts), and a test skips
 * with the reason when this machine has no WebGPU adapter at all.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendReport } from '../lib/backend';
import { findWebGpuAdapter } from '../lib/backend/webgpu-adapter';
import { relativeError } from './backend-op-cases';

let ready: Promise<BackendReport | string> | undefined;

/** The webgpu backend's report, or why it cannot run here. */
export function webgpuBackend(): Promise<BackendReport | string> {
  ready ??= (async () => {
    const adapter = await findWebGpuAdapter();
    if (typeof adapter === 'string') return `webgpu unavailable here: ${adapter}`;
    return initBackend('webgpu');
  })();
  return ready;
}

/** A test that runs on the webgpu backend, or skips saying why it cannot. */
export function webgpuTest(name: string, fn: (t: TestContext, report: BackendReport) => Promise<void> | void): void {
  test(name, async (t) => {
    const report = await webgpuBackend();
    if (typeof report === 'string') {
      t.skip(report);
      return;
    }
    await tf.setBackend('webgpu');
    await fn(t, report);
  });
}

/** f() on the cpu backend (the reference), then on webgpu; f must build its inputs from seeds. */
export async function onBoth<T>(f: () => T | Promise<T>): Promise<{ cpu: T; gpu: T }> {
  await tf.setBackend('cpu');
  const cpu = await f();
  await tf.setBackend('webgpu');
  const gpu = await f();
  return { cpu, gpu };
}

/** Named arrays from both backends must agree within `tolerance` (relative to the reference's scale). */
export function assertClose(
  what: string, got: Record<string, ArrayLike<number>>, want: Record<string, ArrayLike<number>>, tolerance: number,
): void {
  assert.deepEqual(Object.keys(got), Object.keys(want), `${what}: the same outputs`);
  for (const [name, values] of Object.entries(got)) {
    assert.equal(values.length, want[name].length, `${what}: ${name} size`);
    const err = relativeError(values, want[name]);
    assert.ok(err <= tolerance, `${what}: ${name} relative error ${err.toExponential(2)} > ${tolerance}`);
  }
}

/** Runs f on webgpu `times` times and checks that the number of live tensors stays where it was after the first. */
export function assertNoLeaks(what: string, f: () => void, times = 3): void {
  f();
  const before = tf.memory().numTensors;
  for (let i = 1; i < times; i++) f();
  assert.equal(tf.memory().numTensors, before, `${what} leaves no tensor behind`);
}
