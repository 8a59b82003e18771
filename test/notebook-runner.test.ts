// The headless runner must execute notebooks through the real tslab kernel,
// save outputs as nbformat 4.5, and stop at a failing cell naming it; the same
// notebooks must run under Jupyter's own nbconvert with our kernelspec.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { executeNotebook, Notebook, readNotebook, writeNotebook } from '../tools/notebooks/execute';

const ROOT = path.resolve(__dirname, '..');
// inside the project, so that cells resolve node_modules as real notebooks do
const dir = path.join(ROOT, 'test', `.tmp-notebooks-${process.pid}`);

function notebook(cells: [string, string][]): Notebook {
  return {
    cells: cells.map(([cell_type, source]) => ({ cell_type: cell_type as 'code', source, metadata: {}, outputs: [], execution_count: null })),
    metadata: { kernelspec: { name: 'fer-tslab', display_name: 'TypeScript (FER notebooks, tslab)', language: 'typescript' } },
    nbformat: 4, nbformat_minor: 4,
  };
}

const good = notebook([
  ['markdown', '# fixture'],
  ['code', "const a: number = 20 + 22;\nconsole.log('answer', a);\nconsole.log('second line');"],
  ['code', "import * as tslab from 'tslab';\ntslab.display.html('<b>bold</b>');\nconst d = tslab.newDisplay();\nd.text('step 1');\nd.text('step 2');"],
  ['code', 'a * 2'],
  ['code', "console.log(process.env.FER_PROFILE, require('path').basename(process.cwd()));"],
]);
const progress = notebook([
  ['code', "import { progressLine } from '../../dist/lib/core/progress';\nconst line = progressLine();\nfor (let i = 1; i <= 20000; i++) line.update(`step ${i}`);\nline.done();"],
  ['code', "console.log('kernel still alive');"],
]);
// more messages in one synchronous burst than zeromq sends without waiting (512)
const flood = notebook([
  ['code', "import * as tslab from 'tslab';\nconst d = tslab.newDisplay();\nfor (let i = 1; i <= 3000; i++) d.text(`update ${i}`);\nfor (let i = 1; i <= 700; i++) console.log(`line ${i}`);"],
  ['code', "console.log('kernel still alive');"],
]);
const failing = notebook([
  ['code', "console.log('before');"],
  ['markdown', 'text'],
  ['code', "throw new Error('boom in cell three');"],
  ['code', "console.log('never');"],
]);
const typeError = notebook([['code', "const n: number = 'not a number';"]]);

before(() => {
  fs.mkdirSync(dir, { recursive: true });
  writeNotebook(path.join(dir, 'good.ipynb'), good);
  writeNotebook(path.join(dir, 'failing.ipynb'), failing);
  writeNotebook(path.join(dir, 'progress.ipynb'), progress);
  writeNotebook(path.join(dir, 'flood.ipynb'), flood);
  writeNotebook(path.join(dir, 'type-error.ipynb'), typeError);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const env = { ...process.env, FER_PROFILE: 'smoke' };

test('runs every code cell in the tslab kernel and records outputs as nbformat 4.5', async () => {
  const { nb, failure } = await executeNotebook(path.join(dir, 'good.ipynb'), { env, cellTimeoutMs: 60_000 });
  assert.equal(failure, undefined);
  assert.equal(nb.nbformat_minor, 5);
  assert.ok(nb.cells.every((c) => typeof c.id === 'string' && /^[\w-]{1,64}$/.test(c.id)), 'every cell has a valid id');
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  assert.deepEqual(code.map((c) => c.execution_count), [1, 2, 3, 4]);
  assert.deepEqual(code[0].outputs, [{ output_type: 'stream', name: 'stdout', text: 'answer 42\nsecond line\n' }]);
  const displays = code[1].outputs!.filter((o) => o.output_type === 'display_data');
  assert.equal(displays.length, 2);
  assert.deepEqual(displays[0].output_type === 'display_data' && displays[0].data, { 'text/html': '<b>bold</b>' });
  assert.deepEqual(displays[1].output_type === 'display_data' && displays[1].data, { 'text/plain': 'step 2' }, 'an updated display keeps its last value');
  assert.match(JSON.stringify(code[2].outputs), /84/);
  assert.match(JSON.stringify(code[3].outputs), /smoke \.tmp-notebooks/, 'env reaches the kernel, which runs in the notebook folder');
  assert.equal(nb.cells[0].cell_type, 'markdown');
});

test('a progress line updated on every step of a tight loop does not overrun the kernel', async () => {
  const { nb, failure } = await executeNotebook(path.join(dir, 'progress.ipynb'), { env, cellTimeoutMs: 60_000 });
  assert.equal(failure, undefined, failure?.error);
  assert.match(JSON.stringify(nb.cells[0].outputs), /step 20000/, 'the last text is kept');
  assert.match(JSON.stringify(nb.cells[1].outputs), /kernel still alive/);
});

test('a burst of thousands of outputs does not kill the kernel (tslab sends without waiting)', async () => {
  const { nb, failure } = await executeNotebook(path.join(dir, 'flood.ipynb'), { env, cellTimeoutMs: 60_000 });
  assert.equal(failure, undefined, failure?.error);
  const text = JSON.stringify(nb.cells[0].outputs);
  assert.match(text, /update 3000/);
  assert.match(text, /line 700\\n/);
  assert.match(JSON.stringify(nb.cells[1].outputs), /kernel still alive/);
});

test('stops at a failing cell and names it', async () => {
  const { nb, failure } = await executeNotebook(path.join(dir, 'failing.ipynb'), { env, cellTimeoutMs: 60_000 });
  assert.ok(failure);
  assert.equal(failure.cellNumber, 3);
  assert.match(failure.error, /boom in cell three/);
  assert.equal(nb.cells[3].execution_count, null, 'cells after the failure do not run');
});

test('a type error fails its cell with the compiler message', async () => {
  const { failure } = await executeNotebook(path.join(dir, 'type-error.ipynb'), { env, cellTimeoutMs: 60_000 });
  assert.ok(failure);
  assert.match(failure.error, /not assignable to type 'number'/);
});

test('the CLI exits non-zero on an unknown notebook prefix', () => {
  // dist/ is built by `npm test` (npm run build) before the tests run
  const r = spawnSync(process.execPath, ['dist/tools/run-notebooks.js', '99-nope', '--no-write'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /'99-nope' matches no notebook; available: 00-environment.ipynb/);
});

const hasJupyter = spawnSync('jupyter', ['nbconvert', '--version']).status === 0;
test('the same notebook runs under jupyter nbconvert with environment/kernels', { skip: hasJupyter ? false : 'jupyter nbconvert is not installed (CI installs it)' }, () => {
  const out = path.join(dir, 'nbconvert');
  const r = spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--output-dir', out, path.join(dir, 'good.ipynb')], {
    env: { ...env, JUPYTER_PATH: path.join(ROOT, 'environment') }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const nb = readNotebook(path.join(out, 'good.ipynb'));
  const text = JSON.stringify(nb.cells.map((c) => c.outputs ?? []));
  assert.match(text, /answer 42/);
  assert.match(text, /<b>bold<\/b>/);
  const bad = spawnSync('jupyter', ['nbconvert', '--to', 'notebook', '--execute', '--output-dir', out, path.join(dir, 'failing.ipynb')], {
    env: { ...env, JUPYTER_PATH: path.join(ROOT, 'environment') }, encoding: 'utf8',
  });
  assert.notEqual(bad.status, 0, 'nbconvert fails on the failing notebook too');
});
