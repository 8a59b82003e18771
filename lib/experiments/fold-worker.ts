/**
 * A fold worker of ./fold-pool.ts: a thread with its own single-threaded
 * wasm backend that trains the folds it is sent with the shared trainer, and
 * reports each epoch's row and the fold's result back.
 * @see notebooks/00-environment.ipynb
 */
import { parentPort } from 'node:worker_threads';
import { initBackend } from '../backend';
import { trainFold } from '../train/trainer';
import type { FromFoldWorker, SharedSet, ToFoldWorker } from './fold-pool';
import { markFoldWorker } from './fold-pool';
import { getMethod } from './methods';
import { prepareMethod } from './runner';

const port = parentPort!;
const send = (msg: FromFoldWorker) => port.postMessage(msg);
const sets = new Map<string, SharedSet>();
/** what each run's `prepare` returned, kept while its folds arrive (a worker sees a run's folds one after another) */
const prepared = new Map<string, Promise<unknown>>();

async function job(msg: Extract<ToFoldWorker, { type: 'job' }>): Promise<void> {
  const set = sets.get(msg.setKey);
  if (!set) throw new Error(`no set ${msg.setKey} was sent before its fold`);
  const { job: j } = msg;
  const method = getMethod(j.config.method);
  if (!prepared.has(j.runId)) {
    if (prepared.size >= 8) prepared.delete(prepared.keys().next().value!);
    prepared.set(j.runId, prepareMethod(method, j.config, set, { config: j.base, resultsDir: j.resultsDir, progress: null }));
  }
  const result = await trainFold({
    method, config: j.config, set, split: j.split, prepared: await prepared.get(j.runId), checkpointFile: j.checkpointFile,
    snapshots: j.snapshots, progress: null, onEpoch: (row) => send({ type: 'epoch', id: msg.id, row }),
  });
  send({ type: 'done', id: msg.id, result });
}

async function start(): Promise<void> {
  markFoldWorker();
  await initBackend();
  // folds run one at a time: the pool sends the next only after 'done'
  port.on('message', (msg: ToFoldWorker) => {
    if (msg.type === 'set') {
      sets.set(msg.set.key, msg.set);
      return;
    }
    job(msg).catch((e: Error) => send({ type: 'error', id: msg.id, message: e.stack ?? e.message }));
  });
  send({ type: 'ready' });
}

start().catch((e: Error) => send({ type: 'error', id: null, message: e.message }));
