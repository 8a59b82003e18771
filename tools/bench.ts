/**
 * `npm run bench`: training speed of reference workloads on every backend.
 *
 * Each backend runs in its own child process (backends must not switch in one
 * process). A child measures its backend's matMul GFLOP/s, then trains each
 * workload on random data (seeded) with Adam and softmax cross-entropy, after
 * untimed warm-up steps, and reports images/s as the median of several timed
 * rounds. Achieved GFLOP/s counts 3x the forward FLOPs of the conv and dense
 * layers (forward + input gradient + weight gradient) from the layer shapes.
 * Benchmarks only measure: nothing here asserts a speed.
 *
 * The webgpu backend is measured on whatever adapter Dawn finds; a software
 * one (lavapipe, which runs WebGPU on the CPU) is labelled as such and, being
 * slow, gets at most one warm-up step and three timed rounds of one step.
 *
 * The wasm backend is also measured data-parallel (lib/train/data-parallel.ts:
 * `--workers` single-threaded replicas share each batch, backend
 * "wasm-data-parallel-N"); its matMul reference is the main thread's
 * all-core wasm matMul. `--json` reports, per workload, the fastest path.
 *
 * Workloads live in WORKLOADS; a paper's lite model joins by adding an entry.
 * `--profile` prints the slowest kernels of one training step per workload.
 * @see notebooks/00-environment.ipynb
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BACKENDS, BackendChoice, describeBackend, initBackend } from '../lib/backend';
import { yieldForGpu } from '../lib/backend/gpu-yield';
import { forwardFlops, makeDataParallelTrainingStep, makeTrainingStep, modelFactory, type TrainingStep } from '../lib/bench/training-speed';
import { buildFromFactory, type ModelFactory } from '../lib/train/data-parallel';
import { methodThroughput, type MethodThroughput } from '../lib/bench/method-throughput';
import { PROJECT_ROOT } from '../lib/paths';

interface Workload {
  about: string;
  /** [height, width, channels] of one input image */
  input: [number, number, number];
  classes: number;
  batch: number;
  /** the model, as a factory data-parallel workers can call too */
  factory(seed: number): ModelFactory;
}

export const WORKLOADS: Record<string, Workload> = {
  'cnn3-64': {
    about: "conv3x3 32 > maxpool2 > conv3x3 64 > maxpool2 > conv3x3 128 > global avg pool > dense 7 (ReLU, 'same' padding), 64x64x1, batch 32",
    input: [64, 64, 1], classes: 7, batch: 32,
    factory: (seed) => modelFactory('buildCnn3', 64, 1, 7, seed),
  },
  // the lite profile's paper models (lib/config.ts): imageSize 64 with width 8 (GNDL, notebook 06), spndlImageSize 32 (SPNDL)
  'lite-cnn-64': {
    about: 'lite-cnn backbone, width 8 (conv3x3 8/16/32/64, each + batch norm, ReLU, maxpool2) > GAP > dense 7, 64x64x1, batch 32 (GNDL, notebook 06 lite)',
    input: [64, 64, 1], classes: 7, batch: 32,
    factory: (seed) => modelFactory('buildLiteCnnClassifier', 64, 1, 8, 7, seed),
  },
  'lite-cnn-32': {
    about: 'the same lite-cnn at 32x32x1, batch 32 (SPNDL lite)',
    input: [32, 32, 1], classes: 7, batch: 32,
    factory: (seed) => modelFactory('buildLiteCnnClassifier', 32, 1, 8, 7, seed),
  },
};

interface WorkloadResult {
  /** the training path: a backend, or 'wasm-data-parallel-N' */
  backend: string;
  train_img_per_s: number;
  /** images/s of each timed round */
  rounds: number[];
  /** images per second of the process's CPU time (all threads): less sensitive to other load than wall time */
  img_per_cpu_s: number;
  steps_per_round: number;
  gflop_per_s: number;
  /** gflop_per_s / the backend's matMul GFLOP/s */
  matmul_fraction: number;
  forward_mflop_per_image: number;
}

interface ChildResult {
  backend: string;
  /** the paper methods' short lite runs, in process and on the fold pool (wasm, single-process child only) */
  methods?: MethodThroughput[];
  description: string;
  /** the WebGPU adapter, e.g. 'software Vulkan (lavapipe)' (webgpu) */
  adapter?: string;
  /** threads of the backend, or 'N x 1' for N single-threaded workers */
  threads?: number | string;
  matmul_gflop_per_s: number;
  workloads: Record<string, WorkloadResult>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const log = (text: string) => process.stderr.write(text + '\n');

/** Median GFLOP/s of an n x n x n matMul. */
function matMulGflops(n: number, reps: number): number {
  const [a, b] = [tf.randomUniform([n, n], -1, 1, 'float32', 1), tf.randomUniform([n, n], -1, 1, 'float32', 2)];
  const times: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    if (i >= 2) times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / median(times) / 1e6;
}

/** Measures one backend, or with `workers` > 0 the wasm backend data-parallel on that many single-threaded workers. */
async function runChild(backend: BackendChoice, opts: Options, workers = 0): Promise<ChildResult> {
  const report = await initBackend(backend);
  const slow = backend === 'cpu';
  const software = report.adapter?.software === true;
  const path = workers ? `${backend}-data-parallel-${workers}` : backend;
  const matmul = matMulGflops(slow ? 256 : 512, slow ? 3 : 10);
  log(`[${path}] ${describeBackend(report)}; matMul ${matmul.toFixed(1)} GFLOP/s`);
  const result: ChildResult = {
    backend: path, description: describeBackend(report) + (workers ? `; ${workers} data-parallel workers, 1 thread each` : ''),
    threads: workers ? `${workers}x1` : report.threads, matmul_gflop_per_s: matmul, workloads: {},
    ...(report.adapter ? { adapter: report.adapter.kind } : {}),
  };
  for (const name of opts.workloads) {
    const w = WORKLOADS[name];
    const model = await buildFromFactory(w.factory(1));
    const fwd = forwardFlops(model);
    const batchOpts = { classes: w.classes, batch: w.batch, seed: 1 };
    let trainer: { step(): number | Promise<number>; dispose(): void | Promise<void> };
    if (workers) {
      model.dispose();
      trainer = await makeDataParallelTrainingStep(w.factory(1), { ...batchOpts, workers });
    } else {
      trainer = makeTrainingStep(model, batchOpts);
    }
    const [warmup, rounds, steps] = slow ? [0, 1, 1]
      : software ? [Math.min(opts.warmup, 1), Math.min(opts.rounds, 3), 1] : [opts.warmup, opts.rounds, opts.steps];
    for (let i = 0; i < warmup; i++) {
      await trainer.step();
      await yieldForGpu();
    }
    if (opts.profile && !workers) await profileStep(name, trainer as TrainingStep);
    const rates: number[] = [];
    const cpu0 = process.cpuUsage();
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      let loss = 0;
      for (let i = 0; i < steps; i++) {
        loss = await trainer.step();
        await yieldForGpu();
      }
      rates.push((steps * w.batch) / ((performance.now() - t0) / 1000));
      log(`[${path}] ${name} round ${r + 1}/${rounds}: ${rates[r].toFixed(1)} images/s (loss ${loss.toFixed(4)})`);
    }
    const cpu = process.cpuUsage(cpu0); // the whole process: every thread and worker
    await trainer.dispose();
    const imgPerS = median(rates);
    const gflops = (3 * fwd * imgPerS) / 1e9;
    result.workloads[name] = {
      backend: path, train_img_per_s: imgPerS, rounds: rates, steps_per_round: steps,
      img_per_cpu_s: (rounds * steps * w.batch) / ((cpu.user + cpu.system) / 1e6), gflop_per_s: gflops,
      matmul_fraction: gflops / matmul, forward_mflop_per_image: fwd / 1e6,
    };
  }
  if (backend === 'wasm' && !workers && opts.methods && opts.workers > 1) {
    result.methods = await methodThroughput(opts.workers, { log: (line) => log(`[wasm] ${line}`) });
  }
  return result;
}

/** cnn3-64 in PyTorch (tools/peer/cnn3_torch.py), or why it was not measured. */
function torchPeer(opts: Options, threads: number): { train_img_per_s: number; torch: string; threads: number } | { skipped: string } {
  // the python3 on PATH first, then the system one (Debian's python3-torch installs there; pyenv or a venv may shadow it)
  let python = '', why = '';
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const probe = spawnSync(candidate, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) { python = candidate; break; }
    why ||= (probe.stderr || probe.error?.message || '').trim().split('\n').pop() ?? '';
  }
  if (!python) return { skipped: `neither python3 nor /usr/bin/python3 can import torch (${why})` };
  const script = path.join(PROJECT_ROOT, 'tools', 'peer', 'cnn3_torch.py');
  const run = spawnSync(python, [script, String(opts.warmup), String(opts.rounds), String(opts.steps), String(threads)], { encoding: 'utf8' });
  const last = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !last.startsWith('{')) return { skipped: `the PyTorch run failed: ${run.stderr.trim().split('\n').pop()}` };
  return JSON.parse(last);
}

/** Prints the kernels that took the most time in one training step. */
async function profileStep(name: string, trainer: TrainingStep): Promise<void> {
  const info = await tf.profile(() => { trainer.step(); });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs);
    e.calls += 1;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  log(`profile of one ${name} step (kernel time ${total.toFixed(1)} ms):`);
  for (const [k, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    log(`  ${k.padEnd(24)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls`);
  }
}

interface Options { workloads: string[]; warmup: number; rounds: number; steps: number; profile: boolean; workers: number; methods: boolean }

const HELP = `usage: npm run bench -- [options]

Training images/s of reference workloads on every available backend.

options:
  --backends a,b   backends to measure (default: every one that loads; of ${BACKENDS.join(', ')})
  --workloads a,b  workloads to run (default: all)
  --warmup n       untimed steps first (default 3)
  --rounds n       timed rounds; the median is reported (default 5)
  --steps n        steps per round (default 4); the cpu backend times 1 step, no warm-up,
                   and webgpu on a software adapter 3 rounds of 1 step after 1 warm-up
  --workers n      also train on the wasm backend data-parallel with n single-threaded
                   workers (default 2; 0: skip)
  --profile        print the slowest kernels of one step (single-process paths)
  --skip-methods   do not time the paper methods' short lite runs (wasm: in one process
                   against the fold pool of --workers workers, lib/bench/method-throughput.ts)
  --peer           also time cnn3-64 in PyTorch on the CPU, where python3 can import torch
                   (tools/peer/cnn3_torch.py, same threads as wasm), and print the ratio
  --json           print one JSON object instead of the table
  --help

workloads:
${Object.entries(WORKLOADS).map(([n, w]) => `  ${n.padEnd(12)} ${w.about}`).join('\n')}

FER_THREADS sets the wasm backend's threads (default: all cores).`;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      backends: { type: 'string' }, workloads: { type: 'string' }, warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '5' }, steps: { type: 'string', default: '4' },
      profile: { type: 'boolean', default: false }, json: { type: 'boolean', default: false },
      'skip-methods': { type: 'boolean', default: false }, peer: { type: 'boolean', default: false },
      workers: { type: 'string', default: '2' }, child: { type: 'string' }, 'child-workers': { type: 'string', default: '0' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const count = (flag: string, v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag}=${v} must be a whole number`);
    return n;
  };
  const workloads = values.workloads ? values.workloads.split(',') : Object.keys(WORKLOADS);
  for (const w of workloads) if (!WORKLOADS[w]) throw new Error(`unknown workload '${w}'; known: ${Object.keys(WORKLOADS).join(', ')}`);
  const opts: Options = {
    workloads, warmup: count('warmup', values.warmup), rounds: Math.max(1, count('rounds', values.rounds)),
    steps: Math.max(1, count('steps', values.steps)), profile: values.profile, workers: count('workers', values.workers),
    methods: !values['skip-methods'],
  };
  if (values.child) {
    const result = await runChild(values.child as BackendChoice, opts, count('child-workers', values['child-workers']));
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  const backends = (values.backends ? values.backends.split(',') : [...BACKENDS]) as BackendChoice[];
  for (const b of backends) if (!BACKENDS.includes(b)) throw new Error(`unknown backend '${b}'; known: ${BACKENDS.join(', ')}`);
  const runs: { backend: BackendChoice; workers: number }[] = backends.flatMap((backend) => [
    { backend, workers: 0 }, ...(backend === 'wasm' && opts.workers > 0 ? [{ backend, workers: opts.workers }] : []),
  ]);
  const results: ChildResult[] = [];
  for (const { backend, workers } of runs) {
    const childArgs = [__filename, '--child', backend, '--child-workers', String(workers), ...args.filter((a) => a !== '--json')];
    const env = { ...process.env, FER_BACKEND: backend };
    const run = spawnSync(process.execPath, childArgs, { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    const last = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !last.startsWith('{')) {
      log(`[${backend}${workers ? `, ${workers} workers` : ''}] not measured (${run.status === 0 ? 'no result' : `exit ${run.status}`})`);
      continue;
    }
    results.push(JSON.parse(last) as ChildResult);
  }
  if (!results.length) throw new Error('no backend could be measured');
  const fastest = Math.max(...results.filter((r) => r.workloads['cnn3-64']).map((r) => r.workloads['cnn3-64'].train_img_per_s));
  const peer = values.peer && workloads.includes('cnn3-64') ? torchPeer(opts, availableParallelism()) : null;
  const peerRow = peer && 'train_img_per_s' in peer
    ? { ...peer, ours: fastest, ratio: fastest / peer.train_img_per_s } : peer;
  if (values.json) {
    console.log(JSON.stringify({ ...summary(results), ...(peerRow ? { peer: peerRow } : {}) }, null, 2));
  } else {
    console.log(table(results));
    const methods = results.find((r) => r.methods)?.methods;
    if (methods) console.log('\n' + methodTable(methods));
    if (peerRow) {
      console.log('\n' + ('skipped' in peerRow ? `PyTorch peer not measured: ${peerRow.skipped}`
        : `cnn3-64, PyTorch ${peerRow.torch} on ${peerRow.threads} threads: ${peerRow.train_img_per_s.toFixed(1)} images/s; ours (fastest path) ${peerRow.ours.toFixed(1)}: ${peerRow.ratio.toFixed(2)}x PyTorch`));
    }
  }
}

function methodTable(methods: MethodThroughput[]): string {
  const rows = [['paper method (short lite run)', 'run', 'in process img/s', `fold pool img/s`, 'pool / in process']];
  for (const m of methods) rows.push([m.label, m.run, m.inProcess.toFixed(0), `${m.pool.toFixed(0)} (${m.poolWorkers} workers)`, `${m.ratio.toFixed(2)}x`]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** The fastest training path's numbers per workload (its `backend` names it), plus every path's. */
function summary(results: ChildResult[]) {
  const out: Record<string, unknown> = { backends: results };
  for (const name of Object.keys(results[0].workloads)) {
    const best = results.filter((r) => r.workloads[name])
      .sort((a, b) => b.workloads[name].train_img_per_s - a.workloads[name].train_img_per_s)[0];
    out[name] = { ...best.workloads[name], threads: best.threads, matmul_gflop_per_s: best.matmul_gflop_per_s };
  }
  return out;
}

function table(results: ChildResult[]): string {
  const rows = [['workload', 'backend', 'threads', 'images/s', 'images/CPU-s', 'GFLOP/s', 'matMul GFLOP/s', 'of matMul']];
  const names = [...new Set(results.flatMap((r) => Object.keys(r.workloads)))];
  for (const name of names) {
    for (const r of results.filter((res) => res.workloads[name])) {
      const w = r.workloads[name];
      rows.push([name, r.adapter ? `${r.backend} (${r.adapter})` : r.backend, String(r.threads ?? '-'), w.train_img_per_s.toFixed(1), w.img_per_cpu_s.toFixed(1), w.gflop_per_s.toFixed(1),
        r.matmul_gflop_per_s.toFixed(1), `${(100 * w.matmul_fraction).toFixed(0)}%`]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
}
