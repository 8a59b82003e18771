/**
 * A notebook's runs as a grid of tasks: one per (run, fold) for every run
 * the notebook trains, and before them the stages those runs share (the
 * runs their methods' prepare fetches, Method.stages, and IDFERM's HNG
 * generators), in levels: a stage of level k needs only stages below it
 * (DDL: stage 0, then the DFEMs it starts), and the notebook's runs come
 * after every level. Planning loads every data set involved (generating
 * SynFER sets that are missing), so the tasks only read them.
 * @see notebooks/05-ddl.ipynb
 */
import * as path from 'path';
import { createHash } from 'crypto';
import type { Config } from '../config';
import { hngSettings, hngStageDir } from '../experiments/idferm-hng/settings';
import type { StageRequest } from '../train/run-types';
import {
  checkSet, dependencyRunOptions, foldSplits, loadSet, planRun, type RunOptions, runFoldsOf,
} from '../experiments/runner';
import { requestOrder } from '../experiments/study-runs';
import { canonicalJson } from '../results/store';
import { dataInfo } from '../train/trainer';
import type { NotebookRuns, NotebookTarget } from './notebooks';

/** A run of the grid: what runExperiment would get (data loaded), and its folds. */
export interface GridRun {
  name: string;
  run: RunOptions;
  runId: string;
  dir: string;
  method: string;
  variant: string;
  folds: number[];
  /** stage level (0: needs no stage); the notebook's own runs come after every level */
  level: number;
}

/** An IDFERM generator stage: trained in one process by hngStage, not a fold run. */
export interface GridHng {
  config: Config;
  variant: string;
  dir: string;
}

export interface Grid {
  /** stage levels in training order */
  levels: { runs: GridRun[]; hng: GridHng[] }[];
  /** the notebook's runs, in the order it requests them (costliest first) */
  main: GridRun[];
}

/** What a plan file says about one task (no data): enough to find it again and to check it is the same. */
export type TaskSpec =
  | {
    kind: 'fold'; group: string; name: string; method: string; variant: string;
    /** the run's folder, relative to the results store */
    runId: string; dir: string; fold: number; folds: number;
  }
  | { kind: 'hng'; group: string; name: string; variants: string[]; dirs: string[] };

export interface GridTask {
  spec: TaskSpec;
  run?: GridRun;
  hng?: GridHng[];
}

interface Planned extends GridRun {
  stages: StageRequest[];
}

async function plannedRun(name: string, opts: RunOptions): Promise<Planned> {
  const set = await loadSet(opts);
  checkSet(set);
  const p = planRun({ ...opts, set });
  const folds = foldSplits(runFoldsOf(opts, set, p.config)).map((s) => s.fold);
  const stages = (await p.method.stages?.({ config: p.config, data: dataInfo(set) })) ?? [];
  const { method, variant } = p.config;
  return { name, run: { ...opts, set }, runId: p.runId, dir: p.dir, method, variant, folds, level: 0, stages };
}

class GridBuilder {
  readonly runs = new Map<string, Planned>();
  readonly hng = new Map<string, GridHng>();

  /** The level of a run that needs these stages: 0 with none, else one above its highest stage. */
  async levelAbove(stages: StageRequest[], base: Config, resultsDir?: string): Promise<number> {
    let level = 0;
    for (const s of stages) level = Math.max(level, 1 + await this.stage(s, base, resultsDir));
    return level;
  }

  /** Adds a stage (and what it needs), once; returns its level. */
  async stage(s: StageRequest, base: Config, resultsDir?: string): Promise<number> {
    if (s.kind === 'hng') {
      const dir = hngStageDir(s.config, s.variant);
      if (!this.hng.has(dir)) this.hng.set(dir, { config: s.config, variant: s.variant, dir });
      return 0;
    }
    const opts = dependencyRunOptions(base, s.request, resultsDir);
    const r = await plannedRun(`stage ${s.request.method}`, opts);
    const known = this.runs.get(r.runId);
    if (known) return known.level;
    r.level = await this.levelAbove(r.stages, opts.config, resultsDir);
    this.runs.set(r.runId, r);
    return r.level;
  }
}

/** The grid of a notebook's runs: those it trains (StudyRun.train), their stages, and the notebook's own stages. */
export async function planGrid(nb: NotebookRuns, config: Config): Promise<Grid> {
  const b = new GridBuilder();
  const main: Planned[] = [];
  for (const r of requestOrder(nb.runs.filter((x) => x.train))) {
    const p = await plannedRun(r.name, r.run);
    if (main.some((m) => m.runId === p.runId)) continue; // e.g. a sweep point that is a listed variant's run
    await b.levelAbove(p.stages, r.run.config, r.run.resultsDir);
    main.push(p);
  }
  for (const s of nb.stages) await b.stage(s, config);
  const stages = [...b.runs.values()];
  const top = Math.max(-1, ...stages.map((r) => r.level), ...(b.hng.size ? [0] : []));
  const levels = Array.from({ length: top + 1 }, (_, level) => ({
    runs: stages.filter((r) => r.level === level),
    hng: level === 0 ? [...b.hng.values()] : [],
  }));
  return { levels, main: main.filter((m) => !b.runs.has(m.runId)) };
}

/** HNG variants sharing their settings share identity networks and warm-up: one task trains them in turn. */
const hngGroups = (stages: GridHng[]): GridHng[][] => {
  const groups = new Map<string, GridHng[]>();
  for (const s of stages) {
    const key = createHash('sha256').update(canonicalJson(hngSettings(s.config))).digest('hex');
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()];
};

/** The grid's tasks in submission order: each stage level (generators first: they train longest), then the main runs. */
export function gridTasks(grid: Grid, resultsDir: string): GridTask[] {
  const rel = (dir: string) => path.relative(resultsDir, dir);
  const foldTasks = (group: string, runs: GridRun[]): GridTask[] => runs.flatMap((run) => run.folds.map((fold) => ({
    run,
    spec: {
      kind: 'fold' as const, group, name: run.name, method: run.method, variant: run.variant,
      runId: run.runId, dir: rel(run.dir), fold, folds: run.folds.length,
    },
  })));
  return [
    ...grid.levels.flatMap((level, i) => {
      const group = `stages-${i + 1}`;
      return [
        ...hngGroups(level.hng).map((hng) => ({
          hng,
          spec: {
            kind: 'hng' as const, group, name: `HNG ${hng.map((h) => h.variant).join(', ')}`,
            variants: hng.map((h) => h.variant), dirs: hng.map((h) => rel(h.dir)),
          },
        })),
        ...foldTasks(group, level.runs),
      ];
    }),
    ...foldTasks('main', grid.main),
  ];
}

/** A notebook's tasks for a configuration: what a plan file lists, and what each task derives again. */
export async function notebookTasks(target: NotebookTarget, config: Config, resultsDir: string): Promise<GridTask[]> {
  return gridTasks(await planGrid(await target.plan(config), config), resultsDir);
}

/** One line about a task, for logs and errors. */
export const describeTask = (t: TaskSpec): string => (t.kind === 'hng'
  ? `${t.name} (${t.group})`
  : `${t.runId} fold ${t.fold + 1}/${t.folds} (${t.group}, ${t.name})`);
