/**
 * The layers of lib/, checked by test/layers.test.ts (and by hand with
 * `npx depcruise lib tools --config .dependency-cruiser.cjs`).
 *
 * From the bottom up:
 *   lib/core/                    general helpers (atomic file writes, the progress line); import nothing else of lib/
 *   lib/config.ts, paths.ts, environment.ts
 *   lib/data, lib/models, lib/train, lib/results, lib/backend, lib/analysis
 *                                datasets, networks, the trainer and its run types (lib/train/run-types.ts),
 *                                the results store, backends, statistics
 *   lib/experiments/             each paper's methods and studies, the method registry and the runner
 *   lib/plan, lib/bench, lib/figures, lib/notebook
 *                                what drives or shows the experiments: plans, benchmarks, figures, notebook display
 *   tools/                       command lines
 * Type-only imports count (tsPreCompilationDeps), and so do lazy require()/import() calls: a lazy import that
 * goes upward is still a cycle, only hidden from the compiler.
 */
const LOWER = '^lib/(core|data|models|train|results|backend|analysis)/|^lib/(config|paths|environment)\\.ts$';
const UPPER = '^lib/(experiments|plan|bench|figures|notebook)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'No import cycles under lib/: a cycle makes module load order decide what is defined (the registry and ' +
        'the methods it lists once needed lazy imports for that), and it means the two files are one layer.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'lower-layers-not-upward',
      comment:
        'Data, models, the trainer, the results store, backends and analysis are used by every paper; they must ' +
        'not depend on a paper\'s experiments or on how runs are planned, benchmarked, drawn or shown, so that ' +
        'each can be tested and reused alone. They take what they need as arguments (e.g. the trainer\'s progress).',
      severity: 'error',
      from: { path: LOWER },
      to: { path: UPPER },
    },
    {
      name: 'core-self-contained',
      comment: 'lib/core/ is what everything may import; it must not import the rest of lib/ back.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { path: '^lib/', pathNot: '^lib/core/' },
    },
    {
      name: 'experiments-below-drivers',
      comment:
        'The experiments are what plans, benchmarks, figures and notebooks drive; they report progress through ' +
        'lib/core/progress.ts and return rows and figure specs rather than importing those layers.',
      severity: 'error',
      from: { path: '^lib/experiments/' },
      to: { path: '^lib/(plan|bench|notebook)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
