// Reading Dawn's adapter info (hardware or a CPU implementation) and saying
// what is missing when there is no adapter: pure functions, no GPU needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { classifyAdapter } from '../lib/backend/webgpu-adapter';
import { explainMissingVulkan } from '../lib/backend/vulkan-drivers';

test('lavapipe, SwiftShader, CPU-type and fallback adapters are software; a GPU is hardware', () => {
  const lavapipe = classifyAdapter({
    vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-',
    description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1', isFallbackAdapter: true,
  });
  assert.deepEqual([lavapipe.software, lavapipe.kind], [true, 'software Vulkan (lavapipe)']);
  assert.equal(lavapipe.device, 'llvmpipe-llvm-15-0-6-256-bits-');
  const swiftshader = classifyAdapter({
    vendor: 'google', device: 'swiftshader-device', description: 'SwiftShader Device (Subzero)',
  });
  assert.deepEqual([swiftshader.software, swiftshader.kind], [true, 'software Vulkan (SwiftShader)']);
  assert.equal(classifyAdapter({ vendor: 'x', description: 'some adapter', adapterType: 'CPU' }).software, true);
  assert.equal(classifyAdapter({ vendor: 'x', description: 'some adapter', isFallbackAdapter: true }).software, true);
  const gpu = classifyAdapter({
    vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H200', adapterType: 'discrete GPU',
  });
  assert.deepEqual([gpu.software, gpu.kind], [false, 'NVIDIA H200']);
  assert.equal(classifyAdapter({ vendor: 'amd', architecture: 'rdna-3' }).kind, 'amd rdna-3');
});

test('without an adapter the message names what is missing: the Vulkan loader, any driver, or a usable one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-vulkan-'));
  const [lib, icd] = [path.join(dir, 'lib'), path.join(dir, 'icd.d')];
  fs.mkdirSync(lib);
  fs.mkdirSync(icd);
  const dirs = { lib: [lib], icd: [icd] };
  assert.match(explainMissingVulkan({}, dirs, 'linux'), /libvulkan\.so\.1 is not installed \(Debian: apt-get install libvulkan1/);
  fs.writeFileSync(path.join(lib, 'libvulkan.so.1'), '');
  assert.match(explainMissingVulkan({}, dirs, 'linux'), /no Vulkan driver is installed; .*lavapipe/);
  const named = explainMissingVulkan({ VK_ICD_FILENAMES: '/nope/icd.json' }, dirs, 'linux');
  assert.match(named, /VK_ICD_FILENAMES names \/nope\/icd\.json/);
  fs.writeFileSync(path.join(icd, 'lvp_icd.json'), '{}');
  assert.match(explainMissingVulkan({}, dirs, 'linux'), /drivers are installed \(lvp_icd\): they are too old.*Mesa >= 25/);
  assert.match(explainMissingVulkan({}, dirs, 'darwin'), /Metal on macOS/);
  fs.rmSync(dir, { recursive: true });
});
