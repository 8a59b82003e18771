// Backend selection: automatic order, FER_BACKEND forcing, and reasons for
// every skipped candidate. Each case runs in a fresh process, since a backend
// is chosen once per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

function choose(env: Record<string, string>, force?: string) {
  const script = `require('./lib/backend').initBackend(${force ? `'${force}'` : ''})
    .then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(3); })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, FER_BACKEND: '', ...env },
  });
  return { status: r.status, report: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').pop()!) : undefined, stderr: r.stderr };
}

test('automatic choice reports why each faster backend was skipped', () => {
  const { report } = choose({});
  assert.ok(report);
  assert.ok(['node-gpu', 'webgpu', 'node', 'wasm'].includes(report.choice), `chose ${report.choice}`);
  const order = ['node-gpu', 'webgpu', 'node', 'wasm', 'cpu'];
  assert.deepEqual(report.skipped.map((s: { choice: string }) => s.choice), order.slice(0, order.indexOf(report.choice)));
  for (const s of report.skipped) assert.ok(s.why.length > 10, `reason for ${s.choice}`);
  assert.equal(report.forced, false);
  if (report.choice === 'webgpu') assert.equal(report.adapter.software, false, 'a software adapter is never chosen automatically');
  const webgpu = report.skipped.find((s: { choice: string }) => s.choice === 'webgpu');
  if (webgpu && /software adapter/.test(webgpu.why)) assert.match(webgpu.why, /FER_BACKEND=webgpu uses it anyway/);
});

test('FER_BACKEND forces a backend', () => {
  const { report } = choose({ FER_BACKEND: 'cpu' });
  assert.equal(report.choice, 'cpu');
  assert.equal(report.tfBackend, 'cpu');
  assert.equal(report.forced, true);
  assert.equal(report.convGradientsFromForward, false);
  const wasm = choose({ FER_BACKEND: 'wasm' }).report;
  assert.equal(wasm.tfBackend, 'wasm');
  assert.equal(wasm.convGradientsFromForward, true);
});

test('an unknown or unavailable FER_BACKEND is an error that says why', () => {
  const bad = choose({ FER_BACKEND: 'gpu' });
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /FER_BACKEND='gpu' is not a backend; use one of: node-gpu, webgpu, node, wasm, cpu/);
  let node: ReturnType<typeof choose>;
  try {
    require.resolve('@tensorflow/tfjs-node');
    return;  // installed here (a machine with internet access at install time): nothing to check
  } catch {
    node = choose({ FER_BACKEND: 'node' });
  }
  assert.equal(node.status, 3);
  assert.match(node.stderr, /FER_BACKEND=node cannot be used: @tensorflow\/tfjs-node is not installed/);
});

test('the backend cannot change within a process', () => {
  const script = `const b = require('./lib/backend');
    b.initBackend('cpu').then(() => b.initBackend('wasm')).catch((e) => console.log(e.message))`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FER_BACKEND: '' } });
  assert.match(r.stdout, /already chosen \(cpu\); it cannot change to 'wasm'/);
});

test('FER_BACKEND=webgpu without a Vulkan driver is an error that names the missing driver', () => {
  const r = choose({ FER_BACKEND: 'webgpu', VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '' });
  assert.equal(r.status, 3);
  // no driver at all, or (on a machine without Vulkan) no loader: both name what to install
  const missing = /(no Vulkan driver is installed|the Vulkan loader libvulkan\.so\.1 is not installed)/.source;
  assert.match(r.stderr, new RegExp(`FER_BACKEND=webgpu cannot be used: (Dawn found no WebGPU adapter: ${missing}|the webgpu package)`));
});

test('FER_BACKEND=webgpu on a machine with a WebGPU adapter reports it', (t) => {
  const r = choose({ FER_BACKEND: 'webgpu' });
  if (r.status !== 0) {
    t.skip(`no WebGPU adapter here: ${r.stderr.trim().split('\n').pop()}`);
    return;
  }
  assert.equal(r.report.tfBackend, 'webgpu');
  for (const key of ['vendor', 'architecture', 'device', 'description', 'kind']) assert.equal(typeof r.report.adapter[key], 'string', key);
  assert.equal(typeof r.report.adapter.software, 'boolean');
});
