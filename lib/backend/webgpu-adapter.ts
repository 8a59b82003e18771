/**
 * Dawn's WebGPU for Node (the `webgpu` package) as the device of
 * tfjs-backend-webgpu: loads it, finds the adapter tfjs would get, says
 * whether that adapter is real hardware or a CPU rasteriser (Mesa's
 * lavapipe/llvmpipe, SwiftShader), and installs `navigator.gpu`, which the
 * backend package looks for once, when it is first loaded.
 *
 * `webgpu` is an ES module; the library compiles to CommonJS, where
 * TypeScript would turn `import()` into `require()` (which older Node 20
 * releases refuse for ES modules), so it is imported through a Function.
 * @see notebooks/00-environment.ipynb
 */
import * as os from 'os';
import { pathToFileURL } from 'url';
import * as tf from '@tensorflow/tfjs';
import { explainMissingVulkan } from './vulkan-drivers';
import { captureDawnTicks } from './webgpu-sync-read';

/** What Dawn says about the adapter, and our reading of it. */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** a CPU implementation of WebGPU/Vulkan, not a GPU */
  software: boolean;
  /** e.g. 'software Vulkan (lavapipe)', or the hardware's description */
  kind: string;
}

interface RawAdapterInfo {
  vendor?: string; architecture?: string; device?: string; description?: string;
  adapterType?: string; isFallbackAdapter?: boolean;
}
interface Gpu { requestAdapter(options?: object): Promise<{ info?: RawAdapterInfo } | null> }
interface Dawn { gpu: Gpu; globals: object }

type DawnModule = { create(flags: string[]): Gpu; globals: object };
const importEsm = new Function('url', 'return import(url)') as (url: string) => Promise<DawnModule>;

let dawn: Promise<Dawn | string> | undefined;

/** Dawn's GPU object, created once per process, or why it cannot be. */
function loadDawn(): Promise<Dawn | string> {
  dawn ??= (async () => {
    let entry: string;
    try {
      entry = require.resolve('webgpu');
    } catch {
      return 'the webgpu package (Dawn for Node, an optional dependency) is not installed: run npm install, ' +
        'or see environment/GPU.md if npm skipped it on this platform';
    }
    try {
      // Mesa's window-system code warns on every start without it; nothing is written there
      process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
      const { create, globals } = await importEsm(pathToFileURL(entry).href);
      captureDawnTicks();  // before Dawn schedules its first event tick
      return { gpu: create([]), globals };
    } catch (e) {
      return `the webgpu package failed to load: ${(e as Error).message.split('\n')[0]} ` +
        '(its prebuilt dawn.node needs Linux x64/arm64 with glibc >= 2.34, macOS or Windows)';
    }
  })();
  return dawn;
}

const SOFTWARE = [
  { pattern: /lavapipe|llvmpipe/i, kind: 'software Vulkan (lavapipe)' },
  { pattern: /swiftshader/i, kind: 'software Vulkan (SwiftShader)' },
  { pattern: /softpipe|microsoft basic render|\bwarp\b/i, kind: 'software renderer' },
];

/** Reads Dawn's adapter info; 'CPU' adapter types and fallback adapters count as software too. */
export function classifyAdapter(raw: RawAdapterInfo): WebGpuAdapterInfo {
  const info = {
    vendor: raw.vendor ?? '', architecture: raw.architecture ?? '',
    device: raw.device ?? '', description: raw.description ?? '',
  };
  const text = Object.values(info).join(' ');
  const named = SOFTWARE.find((s) => s.pattern.test(text));
  const software = !!named || /cpu/i.test(raw.adapterType ?? '') || raw.isFallbackAdapter === true;
  const vendorLine = [info.vendor, info.architecture, info.device].filter(Boolean).join(' ');
  const hardware = info.description || vendorLine || 'unnamed adapter';
  return { ...info, software, kind: named?.kind ?? (software ? 'software adapter' : hardware) };
}

/** tfjs-backend-webgpu's WEBGPU_USE_LOW_POWER_GPU, which exists only once that package is loaded (default false). */
function lowPowerFlag(): boolean {
  try {
    return tf.env().getBool('WEBGPU_USE_LOW_POWER_GPU');
  } catch {
    return false;
  }
}

/** The adapter tfjs-backend-webgpu will ask for (same power preference), or why there is none. */
export async function findWebGpuAdapter(): Promise<WebGpuAdapterInfo | string> {
  const d = await loadDawn();
  if (typeof d === 'string') return d;
  const powerPreference = lowPowerFlag() ? 'low-power' : 'high-performance';
  const adapter = await d.gpu.requestAdapter({ powerPreference });
  if (!adapter) return explainMissingVulkan();
  return classifyAdapter(adapter.info ?? {});
}

/**
 * Puts Dawn's GPU at navigator.gpu and its GPU* constants on globalThis, then
 * loads tfjs-backend-webgpu, which registers 'webgpu' only if it sees them.
 */
export async function registerWebGpuBackend(): Promise<string | undefined> {
  const d = await loadDawn();
  if (typeof d === 'string') return d;
  if (tf.findBackendFactory('webgpu')) return undefined;
  Object.assign(globalThis, d.globals);
  const g = globalThis as { navigator?: { gpu?: unknown } };
  // Node >= 21 has a navigator of its own: add gpu to it rather than replace it
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: d.gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: d.gpu }, configurable: true, writable: true });
  try {
    require('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return `@tensorflow/tfjs-backend-webgpu failed to load: ${(e as Error).message.split('\n')[0]}`;
  }
  if (tf.findBackendFactory('webgpu')) return undefined;
  return '@tensorflow/tfjs-backend-webgpu loaded but did not register (it saw no navigator.gpu)';
}
