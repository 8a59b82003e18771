/**
 * Runs a notebook top to bottom in a fresh kernel and fills in its outputs
 * and execution counts as nbformat 4.5 (every cell with an id), the way
 * `jupyter nbconvert --execute` does.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { KernelClient, Message } from './kernel-client';

type MimeBundle = Record<string, unknown>;
export type Output =
  | { output_type: 'stream'; name: string; text: string }
  | { output_type: 'display_data'; data: MimeBundle; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: MimeBundle; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

export interface Cell {
  id?: string;
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
}
export interface Notebook {
  cells: Cell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

export interface CellFailure {
  /** one-based index among all cells, as a notebook front end shows it */
  cellNumber: number;
  source: string;
  error: string;
}

export interface ExecuteOptions {
  env: NodeJS.ProcessEnv;
  cellTimeoutMs: number;
  /** called when a cell starts and ends, and with each text a running cell prints */
  onProgress?: (e: { cell: number; codeCells: number; state: 'start' | 'text' | 'done'; text?: string; seconds?: number }) => void;
}

export const sourceText = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
  } catch (e) {
    throw new Error(`${file}: not a readable notebook (${(e as Error).message})`);
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) throw new Error(`${file}: expected nbformat 4 with a cells list`);
  return nb;
}

/** nbformat 4.5 requires unique cell ids; give missing ones a stable id. */
function ensureCellIds(nb: Notebook): void {
  const seen = new Set<string>();
  nb.cells.forEach((c, i) => {
    if (!c.id || seen.has(c.id)) {
      c.id = crypto.createHash('sha1').update(`${i}:${sourceText(c)}`).digest('hex').slice(0, 8);
    }
    seen.add(c.id);
  });
  nb.nbformat_minor = Math.max(nb.nbformat_minor ?? 0, 5);
}

/** Folds one iopub message into a cell's outputs (nbformat's rules). */
class OutputCollector {
  outputs: Output[] = [];
  private clearPending = false;
  private byDisplayId = new Map<string, Output[]>();

  add(m: Message, executionCount: () => number | null): string | undefined {
    const c = m.content as Record<string, any>;
    const type = m.header.msg_type;
    if (type === 'clear_output') {
      if (c.wait) this.clearPending = true;
      else this.outputs = [];
      return undefined;
    }
    if (type === 'update_display_data') {
      for (const o of this.byDisplayId.get(c.transient?.display_id) ?? []) {
        if (o.output_type === 'display_data') { o.data = c.data; o.metadata = c.metadata ?? {}; }
      }
      return typeof c.data?.['text/plain'] === 'string' ? c.data['text/plain'] : undefined;
    }
    if (!['stream', 'display_data', 'execute_result', 'error'].includes(type)) return undefined;
    if (this.clearPending) { this.outputs = []; this.clearPending = false; }
    if (type === 'stream') {
      const last = this.outputs[this.outputs.length - 1];
      if (last?.output_type === 'stream' && last.name === c.name) last.text += c.text;
      else this.outputs.push({ output_type: 'stream', name: c.name, text: c.text });
      return c.text;
    }
    if (type === 'error') {
      this.outputs.push({ output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] });
      return `${c.ename}: ${c.evalue}`;
    }
    const out: Output = type === 'display_data'
      ? { output_type: 'display_data', data: c.data, metadata: c.metadata ?? {} }
      : { output_type: 'execute_result', data: c.data, metadata: c.metadata ?? {}, execution_count: executionCount() };
    this.outputs.push(out);
    const id = c.transient?.display_id;
    if (id) this.byDisplayId.set(id, [...(this.byDisplayId.get(id) ?? []), out]);
    return typeof c.data?.['text/plain'] === 'string' ? c.data['text/plain'] : undefined;
  }
}

/**
 * Executes every code cell in order and stops at the first failing one.
 * Returns the notebook with outputs (up to the failure) and the failure, if any.
 */
export async function executeNotebook(file: string, opts: ExecuteOptions): Promise<{ nb: Notebook; failure?: CellFailure }> {
  const nb = readNotebook(file);
  ensureCellIds(nb);
  const kernel = new KernelClient();
  const codeCells = nb.cells.filter((c) => c.cell_type === 'code').length;
  try {
    const info = await kernel.start(path.dirname(path.resolve(file)), opts.env);
    if (info.content.language_info) nb.metadata.language_info = info.content.language_info;
    let count = 0;
    let codeIndex = 0;
    for (const [i, cell] of nb.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      codeIndex++;
      cell.outputs = [];
      cell.execution_count = null;
      const source = sourceText(cell);
      if (!source.trim()) continue;
      const started = Date.now();
      opts.onProgress?.({ cell: codeIndex, codeCells, state: 'start' });
      const collector = new OutputCollector();
      let reply: Message;
      try {
        reply = await kernel.execute(source, (m) => {
          const text = collector.add(m, () => cell.execution_count ?? null);
          if (text) opts.onProgress?.({ cell: codeIndex, codeCells, state: 'text', text });
        }, opts.cellTimeoutMs);
      } catch (e) {
        cell.outputs = collector.outputs;
        return { nb, failure: { cellNumber: i + 1, source, error: `${(e as Error).message}` } };
      }
      cell.execution_count = (reply.content.execution_count as number | undefined) ?? ++count;
      count = cell.execution_count;
      cell.outputs = collector.outputs;
      opts.onProgress?.({ cell: codeIndex, codeCells, state: 'done', seconds: (Date.now() - started) / 1000 });
      if (reply.content.status !== 'ok') {
        const shown = collector.outputs
          .map((o) => (o.output_type === 'stream' && o.name === 'stderr' ? o.text : o.output_type === 'error' ? `${o.ename}: ${o.evalue}\n${o.traceback.join('\n')}` : ''))
          .join('').trim();
        const reason = shown || `${reply.content.ename ?? 'error'}: ${reply.content.evalue ?? '(the kernel gave no message)'}`;
        return { nb, failure: { cellNumber: i + 1, source, error: reason } };
      }
    }
    return { nb };
  } finally {
    await kernel.shutdown();
  }
}

/** Sorted keys, as Jupyter writes them, so saved notebooks diff cleanly. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** Writes a notebook atomically, in Jupyter's own layout (1-space indent, sorted keys). */
export function writeNotebook(file: string, nb: Notebook): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(sortKeys(nb), null, 1) + '\n');
  fs.renameSync(tmp, file);
}
