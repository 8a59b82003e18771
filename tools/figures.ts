/**
 * `npm run figures [-- --profile P] [--paper spndl|gndl|idferm|ddl ...]`
 * Redraws every paper figure of notebooks 02–05 from the stored runs (no
 * training), prints which paper figure each reproduces and which are missing,
 * and writes the results index to figures/RESULTS.md.
 * @see notebooks/07-figures.ipynb
 */
import * as path from 'path';
import { parseArgs } from 'util';
import { describeBackend, initBackend } from '../lib/backend';
import { loadConfig, PROFILES } from '../lib/config';
import { writeFileAtomic } from '../lib/core/atomic-write';
import { regenerateFigures } from '../lib/figures/regenerate';
import { showTable } from '../lib/notebook/display';
import { figuresDir, PROJECT_ROOT } from '../lib/paths';
import { PAPERS, PaperKey } from '../lib/results/paper-tables';
import { resultsIndex, resultsMarkdown } from '../lib/experiments/index-report';

const USAGE = `usage: npm run figures -- [options]

  --profile P       ${PROFILES.join(' | ')} (default: FER_PROFILE or lite): whose runs to draw
  --paper K         only this paper's figures (repeatable): ${PAPERS.join(', ')}
  -h, --help        this help

Figures go to figures/<paper>/, the results index to figures/RESULTS.md.
Figures whose runs are not stored are listed as missing (run their notebook first).`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { profile: { type: 'string' }, paper: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return console.log(USAGE);
  if (values.profile !== undefined && !(PROFILES as readonly string[]).includes(values.profile)) {
    throw new Error(`--profile '${values.profile}' is not a profile; use one of: ${PROFILES.join(', ')}`);
  }
  const unknown = (values.paper ?? []).filter((p) => !(PAPERS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`--paper ${unknown.join(', ')}: not a paper; use ${PAPERS.join(', ')}`);
  const config = loadConfig(values.profile ? { ...process.env, FER_PROFILE: values.profile } : process.env);
  console.log(`backend: ${describeBackend(await initBackend())}; profile: ${config.profile}`);
  const figures = await regenerateFigures(config, { papers: values.paper as PaperKey[] | undefined });
  // the terminal gets the first run id and a count; notebook 07 shows every id
  const brief = (ids: string) => {
    const all = ids.split(', ');
    return all.length <= 2 ? ids : `${all[0]}, … (${all.length} runs)`;
  };
  showTable(figures.map((f) => ({
    ...f, source: brief(f.source), file: f.file.replace(/\(no complete run ([^)]*)\)/, (_, ids) => `(no complete run ${brief(ids)})`),
  })), { caption: 'figures' });
  const index = resultsIndex(config);
  const file = path.join(figuresDir(), 'RESULTS.md');
  writeFileAtomic(file, resultsMarkdown(index, config.profile));
  console.log(`${figures.filter((f) => !f.file.startsWith('missing')).length} of ${figures.length} figures drawn; results index (${index.length} rows): ${path.relative(PROJECT_ROOT, file)}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  });
}
