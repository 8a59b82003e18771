/**
 * Types for the papers' own reported numbers (tables, numeric figure
 * readings, numbers quoted in the text), and the small builder the four data
 * files use. The numbers themselves live in spndl.ts, gndl.ts, idferm.ts and
 * ddl.ts; lookups and the side-by-side join are in ../paper-tables.ts.
 * @see notebooks/06-cross-paper-comparison.ipynb
 */

export type PaperKey = 'spndl' | 'gndl' | 'idferm' | 'ddl';

/** How a number is measured; the range is what a valid value must lie in. */
export interface MetricInfo {
  label: string;
  min: number;
  max: number;
  integer: boolean;
  /** decimals to show */
  digits: number;
}

export const METRICS = {
  'accuracy-pct': { label: 'accuracy (%)', min: 0, max: 100, integer: false, digits: 2 },
  'identity-error-pct': { label: 'generated faces judged a different identity (%)', min: 0, max: 100, integer: false, digits: 2 },
  'train-time-min': { label: 'metric-learning training time (minutes)', min: 0, max: Infinity, integer: true, digits: 0 },
  'comparisons-per-batch': { label: 'distance comparisons per training batch', min: 0, max: Infinity, integer: true, digits: 0 },
  'train-loss': { label: 'training loss (cross-entropy)', min: 0, max: Infinity, integer: false, digits: 4 },
  'component-flag': { label: 'component used (1) or not (0)', min: 0, max: 1, integer: true, digits: 0 },
} satisfies Record<string, MetricInfo>;
export type Metric = keyof typeof METRICS;

/**
 * Real dataset keys, as in lib/config.ts `dataset`, plus 'fer-collection'
 * (IDFERM's pooled CK+ / MMI / Oulu-CASIA images, used for its HNG tables).
 */
export const REAL_DATASETS = ['ckplus', 'oulu', 'mmi', 'rafdb', 'sfew', 'fer-collection'] as const;
export type RealDataset = (typeof REAL_DATASETS)[number];

export const DATASET_NAMES: Record<RealDataset, string> = {
  ckplus: 'CK+', oulu: 'Oulu-CASIA', mmi: 'MMI', rafdb: 'RAF-DB', sfew: 'SFEW',
  'fer-collection': 'CK+ / MMI / Oulu-CASIA images',
};

/** How per-fold results were combined into the printed number. */
export type Aggregation =
  | 'pooled'      // total correct over all test folds / all samples
  | 'fold-mean'   // mean of the per-fold accuracies
  | 'test-set'    // one fixed test split
  | 'not-applicable';

/** One value column of a table (a dataset, or a measured quantity). */
export interface PaperColumn {
  key: string;
  /** header as the paper prints it (shortened) */
  label: string;
  /** null for columns that describe a configuration rather than a measurement on data */
  dataset: RealDataset | null;
  /** number of expression classes, where it matters */
  classes?: number;
  /** e.g. '10-fold subject-independent CV', 'official split' */
  protocol: string;
  aggregation: Aggregation;
  note?: string;
}

/**
 * Whose number a row is: this paper's method or one of its variants
 * ('proposed'), this paper's own baseline or ablation run ('baseline'), a
 * number quoted from another work ('competitor'), or quoted from the same
 * authors' earlier work ('authors-earlier').
 */
export type RowRole = 'proposed' | 'baseline' | 'competitor' | 'authors-earlier';

export interface PaperRow {
  /** unique within its table; what `OursLink.paperRow` names */
  label: string;
  /** method name as printed (normalised spacing) */
  method: string;
  role: RowRole;
  /** citation number as printed, e.g. '[9]' */
  ref?: string;
  year?: number;
  /** the paper's Setting column, e.g. 'image-based', 'sequence-based' */
  setting?: string;
  /** knobs that distinguish rows of an ablation or sweep */
  params?: Record<string, number | string | boolean>;
  /** column key -> value as reported; null = not reported, lost or illegible */
  values: Record<string, number | null>;
  /** column key -> the cell as printed, where it is not just the number ('–', '5 h 24 min', '≈ 0.003') */
  printed?: Record<string, string>;
  /** column key -> footnote marks printed next to the value ('‡', '†') */
  marks?: Record<string, string>;
  /** column keys printed in bold */
  bold?: string[];
  /** column key -> approximate reading (text says "about") */
  approx?: string[];
  /**
   * Correct/total counts the value equals to two decimals. Derived by us
   * (not printed by the paper); they pin down pooled accuracies.
   */
  counts?: Record<string, { correct: number; total: number }>;
  /** formula printed by the paper, for count tables */
  formula?: string;
  notes?: string[];
}

/** Which of our runs (method = model family, variant = configuration) a paper row stands for. */
export interface OursLink {
  paperRow: string;
  ours: { method: string; variant: string };
  /** restrict the link to these columns (e.g. a paper picked a different variant per dataset) */
  columns?: string[];
  note?: string;
}

export type TableKind = 'table' | 'figure' | 'text';

export interface PaperTable {
  /** '<paper>.table<N>', '<paper>.fig<N>' or '<paper>.<name>' */
  id: string;
  paper: PaperKey;
  kind: TableKind;
  /** the paper's own name: 'Table 1', 'Fig. 6', 'Abstract', 'Section 3.3' */
  label: string;
  /** our short description */
  title: string;
  metric: Metric;
  columns: PaperColumn[];
  rows: PaperRow[];
  ours: OursLink[];
  /** where the numbers come from: the paper's section, table or figure */
  source: string;
  notes: string[];
}

/** A single number stated in a paper's text or read off a figure, outside any table. */
export interface PaperFact {
  id: string;
  paper: PaperKey;
  source: string;
  quantity: string;
  /** null = lost in the text extraction and not recoverable */
  value: number | null;
  /** for ranges */
  low?: number;
  high?: number;
  unit: string;
  approx: boolean;
  note?: string;
}

/** A row as authored: values in column order, the way the paper prints it. */
export interface RowSpec extends Omit<PaperRow, 'values' | 'label' | 'printed' | 'marks'> {
  label?: string;
  cells: (number | null)[];
  /** printed forms in column order; undefined entries = the number itself */
  printed?: (string | undefined)[];
  marks?: (string | undefined)[];
}

export interface TableSpec extends Omit<PaperTable, 'rows'> {
  rows: RowSpec[];
}

const byColumn = <T>(cols: PaperColumn[], list: (T | undefined)[] | undefined): Record<string, T> | undefined => {
  if (!list) return undefined;
  const out: Record<string, T> = {};
  list.forEach((v, i) => { if (v !== undefined) out[cols[i].key] = v; });
  return out;
};

/**
 * Turns an authored table (cells in column order) into a PaperTable; throws
 * at load time, naming table and row, when a row has the wrong number of cells.
 */
export function defineTable(spec: TableSpec): PaperTable {
  const rows = spec.rows.map((r): PaperRow => {
    const { cells, printed, marks, label, ...rest } = r;
    const name = label ?? r.method;
    for (const [what, list] of [['cells', cells], ['printed', printed], ['marks', marks]] as const) {
      if (list && list.length !== spec.columns.length) {
        throw new Error(`${spec.id}: row '${name}' has ${list.length} ${what}, expected ${spec.columns.length} (${spec.columns.map((c) => c.key).join(', ')})`);
      }
    }
    const values: Record<string, number | null> = {};
    spec.columns.forEach((c, i) => { values[c.key] = cells[i]; });
    return { label: name, ...rest, values, printed: byColumn(spec.columns, printed), marks: byColumn(spec.columns, marks) };
  });
  return { ...spec, rows };
}
