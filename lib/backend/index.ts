/**
 * Picks the TensorFlow.js backend once, at start, and says why.
 *
 * Order: tfjs-node-gpu (when it loads and sees a GPU) > webgpu (Dawn, when it
 * finds a hardware adapter; a software one such as lavapipe only when forced)
 * > tfjs-node > wasm > cpu. `FER_BACKEND=node-gpu|webgpu|node|wasm|cpu` forces
 * one. Switching backends while tensors are alive corrupts state, so a second
 * call with another choice fails.
 * The wasm backend computes with `FER_THREADS` threads (default: all cores;
 * see wasm-threads.ts) and gets fast conv2d and max-pool gradients
 * (wasm-conv-gradients.ts, wasm-maxpool-gradient.ts) and spatial sums
 * (wasm-spatial-sum.ts: bias gradients, global average pooling), and its
 * Identity and same-dtype Cast share data instead of copying it
 * (wasm-shared-identity.ts), Tile copies blocks (wasm-tile.ts: the
 * batch-norm gradient's tiling), training-mode batch normalisation and
 * its gradient are one kernel each (wasm-batch-norm.ts), as are single-slope
 * PReLU and its gradient (wasm-prelu.ts) and Adam's update of a variable
 * (wasm-adam.ts). The webgpu backend
 * gets synchronous reads in Node (webgpu-sync-read.ts), a max-pool gradient
 * that breaks ties as the cpu backend does (webgpu-maxpool-gradient.ts) and a
 * filter gradient by one matrix product (webgpu-conv-filter-gradient.ts).
 * @see notebooks/00-environment.ipynb
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmAdam } from './wasm-adam';
import { registerWasmBatchNorm } from './wasm-batch-norm';
import { registerWasmConvGradients } from './wasm-conv-gradients';
import { registerWasmMaxPoolGradient } from './wasm-maxpool-gradient';
import { registerWasmSamePaddingFix } from './wasm-same-padding';
import { registerWasmSharedIdentity } from './wasm-shared-identity';
import { registerWasmSpatialSum } from './wasm-spatial-sum';
import { registerWasmPrelu } from './wasm-prelu';
import { registerWasmTile } from './wasm-tile';
import { enableWasmThreads, requestedThreads } from './wasm-threads';
import { findWebGpuAdapter, registerWebGpuBackend, type WebGpuAdapterInfo } from './webgpu-adapter';
import { registerWebGpuConvFilterGradient } from './webgpu-conv-filter-gradient';
import { registerWebGpuMaxPoolGradient } from './webgpu-maxpool-gradient';
import { registerWebGpuSyncRead } from './webgpu-sync-read';

export type { WebGpuAdapterInfo } from './webgpu-adapter';

export const BACKENDS = ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface BackendReport {
  /** our name for the choice */
  choice: BackendChoice;
  /** tf.getBackend() after the choice */
  tfBackend: string;
  /** true when FER_BACKEND (or the caller) forced it */
  forced: boolean;
  /** candidates tried before it, with why each was skipped */
  skipped: { choice: BackendChoice; why: string }[];
  /** threads the backend computes with, where it says */
  threads?: number;
  /** fast conv2d gradients from forward convolutions are installed (wasm) */
  convGradientsFromForward: boolean;
  /** the WebGPU adapter (webgpu) */
  adapter?: WebGpuAdapterInfo;
}

let chosen: Promise<BackendReport> | undefined;
let chosenFor: string | undefined;

/** Why a candidate cannot be used, or undefined when it is now the backend. */
type Attempt = (forced: boolean) => Promise<string | undefined>;

let webgpuAdapter: WebGpuAdapterInfo | undefined;

function loadModule(name: string): string | undefined {
  try {
    require(name);
    return undefined;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    return (e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && msg.includes(name)
      ? `${name} is not installed (an optional dependency; its install needs internet access)`
      : `${name} failed to load: ${msg}`;
  }
}

const attempts: Record<BackendChoice, Attempt> = {
  'node-gpu': async () => {
    const fail = loadModule('@tensorflow/tfjs-node-gpu');
    if (fail) return fail;
    await tf.setBackend('tensorflow');
    const gpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
    return gpu ? undefined : '@tensorflow/tfjs-node-gpu loaded but sees no GPU (check CUDA/cuDNN, see environment/GPU.md)';
  },
  webgpu: async (forced) => {
    const adapter = await findWebGpuAdapter();
    if (typeof adapter === 'string') return adapter;
    if (adapter.software && !forced) {
      return `only a software adapter (${adapter.kind}: ${adapter.description || adapter.device}), which computes on the CPU; ` +
        'FER_BACKEND=webgpu uses it anyway';
    }
    const fail = await registerWebGpuBackend();
    if (fail) return fail;
    if (!(await tf.setBackend('webgpu'))) return `the webgpu backend failed to initialise on ${adapter.kind}`;
    registerWebGpuSyncRead(tf.backend());
    registerWebGpuMaxPoolGradient();
    registerWebGpuConvFilterGradient();
    webgpuAdapter = adapter;
    return undefined;
  },
  node: async () => {
    const fail = loadModule('@tensorflow/tfjs-node');
    if (fail) return fail;
    await tf.setBackend('tensorflow');
    return undefined;
  },
  wasm: async () => {
    const fail = loadModule('@tensorflow/tfjs-backend-wasm');
    if (fail) return fail;
    registerWasmConvGradients();
    registerWasmSamePaddingFix();
    registerWasmMaxPoolGradient();
    registerWasmSpatialSum();
    registerWasmSharedIdentity();
    registerWasmTile();
    registerWasmBatchNorm();
    registerWasmPrelu();
    registerWasmAdam();
    const threads = requestedThreads();
    const restore = threads > 1 ? enableWasmThreads(threads) : undefined;
    try {
      if (await tf.setBackend('wasm')) return undefined;
      return `the wasm backend failed to initialise${threads > 1 ? ` with ${threads} threads (FER_THREADS=1 uses the single-threaded build)` : ''}`;
    } finally {
      restore?.();
    }
  },
  cpu: async () => ((await tf.setBackend('cpu')) ? undefined : 'the cpu backend failed to initialise'),
};

function parseChoice(value: string, source: string): BackendChoice {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendChoice;
  throw new Error(`${source}='${value}' is not a backend; use one of: ${BACKENDS.join(', ')}`);
}

async function choose(forced: BackendChoice | undefined): Promise<BackendReport> {
  const skipped: BackendReport['skipped'] = [];
  const candidates = forced ? [forced] : BACKENDS;
  for (const choice of candidates) {
    // a tfjs-node-gpu without a GPU still registered 'tensorflow': use its CPU kernels
    const why = choice === 'node' && tf.findBackend('tensorflow') ? undefined : await attempts[choice](forced !== undefined);
    if (why === undefined) {
      await tf.ready();
      return {
        choice, tfBackend: tf.getBackend(), forced: forced !== undefined, skipped,
        threads: threadCount(choice), convGradientsFromForward: choice === 'wasm',
        ...(choice === 'webgpu' ? { adapter: webgpuAdapter } : {}),
      };
    }
    skipped.push({ choice, why });
  }
  throw new Error(`FER_BACKEND=${forced} cannot be used: ${skipped.map((s) => s.why).join('; ')}`);
}

function threadCount(choice: BackendChoice): number | undefined {
  if (choice !== 'wasm') return undefined;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
  return wasm.getThreadsCount();
}

/**
 * Chooses the backend (once per process) and reports the choice.
 * @param force overrides FER_BACKEND; omit both for the automatic order
 */
export function initBackend(force?: BackendChoice): Promise<BackendReport> {
  try {
    const env = process.env.FER_BACKEND?.trim();
    const forced = force ?? (env ? parseChoice(env, 'FER_BACKEND') : undefined);
    const key = forced ?? 'auto';
    if (chosen && chosenFor !== key) {
      throw new Error(`the backend was already chosen (${chosenFor}); it cannot change to '${key}' in the same process`);
    }
    chosenFor = key;
    chosen ??= choose(forced);
    return chosen;
  } catch (e) {
    return Promise.reject(e);
  }
}

/** One line for logs: `wasm (skipped node-gpu: ..., node: ...)`. */
export function describeBackend(r: BackendReport): string {
  const threads = r.threads ? `, ${r.threads} thread${r.threads > 1 ? 's' : ''}` : '';
  const adapter = r.adapter ? `, ${r.adapter.software ? r.adapter.kind : `adapter ${r.adapter.kind}`}` : '';
  const why = r.forced ? 'forced by FER_BACKEND' : r.skipped.map((s) => `${s.choice}: ${s.why}`).join('; ');
  return `backend ${r.choice} (tf '${r.tfBackend}'${threads}${adapter})${why ? ` — ${why}` : ''}`;
}

/** Every candidate in order, for notebook 00: chosen, skipped (and why) or not tried. */
export function candidateRows(r: BackendReport): { candidate: BackendChoice; status: string; why: string }[] {
  const chosenAt = BACKENDS.indexOf(r.choice);
  return BACKENDS.map((candidate, i) => {
    const skip = r.skipped.find((s) => s.choice === candidate);
    if (candidate === r.choice) {
      return { candidate, status: 'chosen', why: r.forced ? 'forced by FER_BACKEND' : 'first that works' };
    }
    if (skip) return { candidate, status: 'skipped', why: skip.why };
    const why = r.forced ? `FER_BACKEND=${r.choice} forces one backend` : i > chosenAt ? 'a faster one was chosen' : '';
    return { candidate, status: 'not tried', why };
  });
}

/** The adapter as rows (vendor, architecture, device, description, kind), or none off webgpu. */
export function adapterRows(r: BackendReport): { item: string; value: string }[] {
  if (!r.adapter) return [];
  const a = r.adapter;
  const kind = a.software ? `${a.kind} (computes on the CPU)` : 'hardware GPU';
  return [['vendor', a.vendor], ['architecture', a.architecture], ['device', a.device], ['description', a.description],
    ['kind', kind]].map(([item, value]) => ({ item, value: value || '-' }));
}
