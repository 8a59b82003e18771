/**
 * Which runs each notebook makes, from its own study code: every target
 * below sets its configuration up and loads its data as the notebook's
 * first cells do, then calls the study's plan function, the one the
 * notebook's study function trains (lib/experiments/study-runs.ts).
 * Notebook 04 also trains its HNG variants itself (not runs): they are its
 * stages.
 * @see notebooks/02-spndl.ipynb
 */
import type { Config } from '../config';
import { loadDataset } from '../data/dataset';
import { planCalibration } from '../experiments/calibration';
import { planComparisonStudy } from '../experiments/comparison/benchmark';
import { ddlConfig, loadDdlData } from '../experiments/ddl';
import { planDdlStudy } from '../experiments/ddl-study';
import { gndlConfig, planGndlStudy } from '../experiments/gndl-study';
import { idfermConfig } from '../experiments/idferm';
import { hngStudyVariants } from '../experiments/idferm-hng/settings';
import { idfermStudySet8, planIdfermStudy } from '../experiments/idferm-report';
import type { StageRequest } from '../train/run-types';
import { planSpndlStudy, spndlConfig } from '../experiments/spndl-study';
import type { StudyRun } from '../experiments/study-runs';

/** A notebook's runs (trained or only shown) and the stages it trains itself. */
export interface NotebookRuns {
  runs: StudyRun[];
  stages: StageRequest[];
}

export interface NotebookTarget {
  /** '01'..'06' */
  notebook: string;
  /** the method or study it is named by on the command line */
  name: string;
  file: string;
  plan(config: Config): Promise<NotebookRuns>;
}

const runsOnly = (runs: StudyRun[]): NotebookRuns => ({ runs, stages: [] });

export const NOTEBOOK_TARGETS: readonly NotebookTarget[] = [
  {
    notebook: '01', name: 'calibration', file: 'notebooks/01-data-and-preprocessing.ipynb',
    // the notebook calibrates on SynFER only
    plan: async (config) => runsOnly(config.dataset === 'synfer' ? await planCalibration(config) : []),
  },
  {
    notebook: '02', name: 'spndl', file: 'notebooks/02-spndl.ipynb',
    plan: async (config) => {
      const cfg = spndlConfig(config);
      return runsOnly(planSpndlStudy(cfg, await loadDataset(cfg)));
    },
  },
  {
    notebook: '03', name: 'gndl', file: 'notebooks/03-gndl.ipynb',
    plan: async (config) => {
      const cfg = gndlConfig(config);
      return runsOnly(planGndlStudy(cfg, await loadDataset(cfg)));
    },
  },
  {
    notebook: '04', name: 'idferm', file: 'notebooks/04-idferm.ipynb',
    plan: async (config) => {
      const cfg = idfermConfig(config);
      const runs = planIdfermStudy(cfg, await loadDataset(cfg), await idfermStudySet8(cfg));
      return { runs, stages: hngStudyVariants(cfg).map((variant) => ({ kind: 'hng', config: cfg, variant })) };
    },
  },
  {
    notebook: '05', name: 'ddl', file: 'notebooks/05-ddl.ipynb',
    plan: async (config) => {
      const cfg = ddlConfig(config);
      return runsOnly(planDdlStudy(cfg, await loadDdlData(cfg)));
    },
  },
  {
    notebook: '06', name: 'comparison', file: 'notebooks/06-comparison.ipynb',
    plan: async (config) => runsOnly(await planComparisonStudy(config)),
  },
];

const describeTargets = () => NOTEBOOK_TARGETS.map((t) => `${t.notebook} (${t.name})`).join(', ');

/** The notebook a --plan argument names: its number ('2', '02') or its method ('spndl'). */
export function resolveTarget(text: string): NotebookTarget {
  const t = text.trim().toLowerCase();
  const hit = NOTEBOOK_TARGETS.find((x) => x.name === t || (/^\d+$/.test(t) && Number(t) === Number(x.notebook)));
  if (!hit) throw new Error(`--plan '${text}': no notebook trains runs by that name; use one of: ${describeTargets()}`);
  return hit;
}
