/**
 * `npm run notebooks [-- 02 05 ...]`: executes the notebooks in order through
 * the real tslab kernel and writes their outputs back into each .ipynb.
 * Stops at the first failing cell with the notebook, cell number and error,
 * and a non-zero exit code. `npm start` runs them all.
 *
 * Options: --no-write (check only), --profile P (sets FER_PROFILE),
 * --cell-timeout S (seconds; 0 = none).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { PROJECT_ROOT } from '../lib/paths';
import { executeNotebook, writeNotebook } from './notebooks/execute';

const NOTEBOOKS_DIR = path.join(PROJECT_ROOT, 'notebooks');
const HELP = `usage: npm run notebooks -- [PREFIX ...] [--no-write] [--profile smoke|lite|paper] [--cell-timeout S]

Runs notebooks/*.ipynb in name order (or those whose names start with a PREFIX,
e.g. 02) through the project's tslab kernel and saves their outputs.
  --no-write        run without saving outputs (what npm test does)
  --profile P       sets FER_PROFILE for the kernel (default: FER_PROFILE or lite)
  --cell-timeout S  fail a cell that runs longer than S seconds (default 3600; 0 = none)`;

function selectNotebooks(prefixes: string[]): string[] {
  const all = fs.readdirSync(NOTEBOOKS_DIR).filter((f) => f.endsWith('.ipynb')).sort();
  if (!prefixes.length) return all;
  return prefixes.map((p) => {
    const hits = all.filter((f) => f.startsWith(p));
    if (hits.length !== 1) {
      throw new Error(`'${p}' matches ${hits.length ? hits.join(', ') : 'no notebook'}; available: ${all.join(', ')}`);
    }
    return hits[0];
  });
}

// whole seconds are rounded before splitting, so 119.6 s reads 2m00s, not 1m60s
const clock = (s: number) => {
  if (s < 59.95) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'no-write': { type: 'boolean', default: false },
      profile: { type: 'string' },
      'cell-timeout': { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const timeout = Number(values['cell-timeout']);
  if (!Number.isFinite(timeout) || timeout < 0) throw new Error(`--cell-timeout '${values['cell-timeout']}' must be a number of seconds`);
  const env = { ...process.env };
  if (values.profile) env.FER_PROFILE = values.profile;
  const notebooks = selectNotebooks(positionals);
  const profile = env.FER_PROFILE || 'lite';
  console.log(`running ${notebooks.length} notebook(s), profile ${profile}${values['no-write'] ? ', outputs not saved' : ''}`);

  const started = Date.now();
  for (const name of notebooks) {
    const file = path.join(NOTEBOOKS_DIR, name);
    const t0 = Date.now();
    let lastBeat = Date.now();
    let lastText = '';
    const { nb, failure } = await executeNotebook(file, {
      env, cellTimeoutMs: timeout * 1000,
      onProgress: (e) => {
        if (e.state === 'start') { lastBeat = Date.now(); lastText = ''; }
        if (e.state === 'text' && e.text?.trim()) lastText = e.text.trim().split('\n').pop() ?? '';
        if (e.state === 'done') console.log(`  ${name}  cell ${e.cell}/${e.codeCells}  ${clock(e.seconds ?? 0)}`);
        // long cells: a heartbeat with their latest line (e.g. a training progress line)
        if (e.state === 'text' && Date.now() - lastBeat > 15_000) {
          lastBeat = Date.now();
          console.log(`  ${name}  cell ${e.cell}/${e.codeCells}  … ${lastText.slice(0, 120)}`);
        }
      },
    });
    if (failure) {
      const kept = path.join(os.tmpdir(), name.replace('.ipynb', '.failed.ipynb'));
      writeNotebook(kept, nb);
      const snippet = failure.source.split('\n').slice(0, 6).map((l) => `    | ${l}`).join('\n');
      console.error(`\nFAILED: notebooks/${name}, cell ${failure.cellNumber}\n${snippet}\n\n${failure.error}\n`);
      console.error(`(notebooks/${name} left unchanged; the partly executed copy is ${kept})`);
      return 1;
    }
    if (!values['no-write']) writeNotebook(file, nb);
    console.log(`ok ${name} in ${clock((Date.now() - t0) / 1000)}${values['no-write'] ? '' : ' (outputs saved)'}`);
  }
  console.log(`all ${notebooks.length} notebook(s) ran in ${clock((Date.now() - started) / 1000)}`);
  return 0;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
