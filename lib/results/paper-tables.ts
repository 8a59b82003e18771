/**
 * The four papers' own reported numbers, as data, and the join that puts
 * them beside ours. The papers' numbers never mix with our results: they are
 * read-only here, and every comparison row says whether the two numbers come
 * from the same experiment (on synthetic data they never do).
 *
 *   paperTable('spndl.table4')            one table
 *   paperTables('ddl')                    all of a paper's tables
 *   paperTableRows('gndl.table1')         the table as printed, for showTable
 *   compareWithPaper('spndl.table4', ours) paper value beside ours ± std
 *
 * @see notebooks/06-cross-paper-comparison.ipynb
 */
import { DDL_TABLES } from './paper-tables/ddl';
import { GNDL_FACTS, GNDL_TABLES } from './paper-tables/gndl';
import { IDFERM_FACTS, IDFERM_TABLES } from './paper-tables/idferm';
import { SPNDL_FACTS, SPNDL_TABLES } from './paper-tables/spndl';
import {
  DATASET_NAMES, METRICS, PaperColumn, PaperFact, PaperKey, PaperRow, PaperTable, REAL_DATASETS, RealDataset,
} from './paper-tables/types';

export * from './paper-tables/types';

export const PAPERS: readonly PaperKey[] = ['spndl', 'gndl', 'idferm', 'ddl'];

/** Every table, figure reading and text table of the four papers. */
export const PAPER_TABLES: readonly PaperTable[] = [...SPNDL_TABLES, ...GNDL_TABLES, ...IDFERM_TABLES, ...DDL_TABLES];

/** Single numbers stated in the papers' text or read off their figures. */
export const PAPER_FACTS: readonly PaperFact[] = [...SPNDL_FACTS, ...GNDL_FACTS, ...IDFERM_FACTS];

/** The table with this id; an unknown id is an error that lists the known ones. */
export function paperTable(id: string): PaperTable {
  const table = PAPER_TABLES.find((t) => t.id === id);
  if (!table) throw new Error(`unknown paper table '${id}'; known ids: ${PAPER_TABLES.map((t) => t.id).join(', ')}`);
  return table;
}

function checkPaper(paper: string): PaperKey {
  if (!(PAPERS as readonly string[]).includes(paper)) throw new Error(`unknown paper '${paper}'; use one of: ${PAPERS.join(', ')}`);
  return paper as PaperKey;
}

/** A paper's tables, in the paper's order. */
export function paperTables(paper: PaperKey | string): PaperTable[] {
  const key = checkPaper(paper);
  return PAPER_TABLES.filter((t) => t.paper === key);
}

/** A paper's single numbers from its text and figures. */
export function paperFacts(paper: PaperKey | string): PaperFact[] {
  const key = checkPaper(paper);
  return PAPER_FACTS.filter((f) => f.paper === key);
}

/** The value cell as the paper prints it (marks kept), or the number. */
function cellText(row: PaperRow, col: PaperColumn): string | number | null {
  const printed = row.printed?.[col.key];
  const value = printed ?? row.values[col.key];
  const mark = row.marks?.[col.key];
  return mark ? `${value ?? ''}${mark}` : value;
}

/**
 * The table the way the paper prints it: one record per row, one key per
 * column label (printed form where the paper prints more than a number), plus
 * the row's role (this paper's method, its baseline, or a quoted competitor).
 */
export function paperTableRows(id: string): Record<string, string | number | null>[] {
  const table = paperTable(id);
  return table.rows.map((row) => {
    const rec: Record<string, string | number | null> = { method: row.label, role: row.role };
    if (table.rows.some((r) => r.setting)) rec.setting = row.setting ?? null;
    for (const col of table.columns) rec[col.label] = cellText(row, col);
    return rec;
  });
}

/** One of our results, summarised over folds or seeds. */
export interface OurResult {
  /** model family, e.g. 'spndl' */
  method: string;
  /** configuration, e.g. 'baseline', 'spndl-won' */
  variant: string;
  /** in the table's unit (percent for accuracies) */
  mean: number;
  /** spread over folds or seeds; null for a single run */
  std: number | null;
  /** dataset key: a real one ('ckplus', 'oulu', ...) or a synthetic set ('synfer', ...) */
  dataset: string;
  profile: string;
  /** for synthetic data: compare only with this paper dataset (default: every column the row is linked to) */
  paperDataset?: RealDataset;
}

export interface Comparison {
  table: string;
  /** the linked paper row; null when no row of the table stands for this variant */
  paperRow: string | null;
  paperDataset: string | null;
  paperValue: number | null;
  method: string;
  variant: string;
  /** our dataset and profile */
  dataset: string;
  profile: string;
  /** 'mean ± std', formatted for the table's metric */
  ours: string;
  mean: number;
  std: number | null;
  /** ours − paper, in the table's unit; null when the paper gives no number */
  difference: number | null;
  /** true only when both numbers are on the same real dataset; even then the setup may differ */
  sameData: boolean;
  /** why the two numbers may not be compared as equals */
  caveat: string;
}

const isReal = (dataset: string): dataset is RealDataset => (REAL_DATASETS as readonly string[]).includes(dataset);

function validate(table: PaperTable, ours: OurResult[]): void {
  const metric = METRICS[table.metric];
  ours.forEach((o, i) => {
    const who = `compareWithPaper('${table.id}'): ours[${i}] (${o.method}/${o.variant})`;
    if (!o.method || !o.variant) throw new Error(`${who}: method and variant are required`);
    if (!Number.isFinite(o.mean)) throw new Error(`${who}: mean ${o.mean} is not a finite number`);
    if (o.std !== null && !(Number.isFinite(o.std) && o.std >= 0)) throw new Error(`${who}: std ${o.std} must be a number ≥ 0, or null`);
    if (o.mean < metric.min || o.mean > metric.max) throw new Error(`${who}: mean ${o.mean} is outside the range of ${metric.label} [${metric.min}, ${metric.max}]`);
    if (o.paperDataset !== undefined && !table.columns.some((c) => c.dataset === o.paperDataset)) {
      throw new Error(`${who}: paperDataset '${o.paperDataset}' is not a column of ${table.id} (${table.columns.map((c) => c.dataset).join(', ')})`);
    }
  });
  // Accuracies handed over as fractions would compare 0.9 with 99.69: refuse.
  if (table.metric === 'accuracy-pct' && ours.length && ours.every((o) => o.mean <= 1)) {
    throw new Error(`compareWithPaper('${table.id}'): every mean is ≤ 1; accuracies must be in percent, like the paper's (multiply fractions by 100)`);
  }
}

function caveatFor(o: OurResult, col: PaperColumn): string {
  if (!isReal(o.dataset)) {
    return `not the same experiment: ours on synthetic '${o.dataset}' (${o.profile} profile), the paper on real ${col.dataset ? DATASET_NAMES[col.dataset] : col.label}`;
  }
  return `same dataset, our reproduction (${o.profile} profile); backbone, initialisation, folds and epoch choice may differ from the paper's`;
}

/**
 * Puts each of our results beside the paper row that stands for the same
 * method/variant (the table's `ours` links). Synthetic results are compared
 * with every linked column (or only `paperDataset`); results on a real
 * dataset with that dataset's column only. Results no paper row stands for
 * are kept, with paperValue null, so nothing is dropped silently.
 * Throws on an unknown table id, on a table that holds no measurements, and
 * on means outside the metric's range.
 */
export function compareWithPaper(id: string, ours: OurResult[]): Comparison[] {
  const table = paperTable(id);
  if (table.metric === 'component-flag') throw new Error(`compareWithPaper('${id}'): ${table.id} lists configurations, not results; there is nothing to compare`);
  validate(table, ours);
  const { digits } = METRICS[table.metric];
  const out: Comparison[] = [];
  for (const o of ours) {
    // Key order is the column order showTable displays.
    const row = (paperRow: string | null, col: PaperColumn | null, paperValue: number | null, caveat: string): Comparison => ({
      table: table.id, paperRow, paperDataset: col?.label ?? null, paperValue,
      method: o.method, variant: o.variant, dataset: o.dataset, profile: o.profile,
      ours: o.std === null ? o.mean.toFixed(digits) : `${o.mean.toFixed(digits)} ± ${o.std.toFixed(digits)}`,
      difference: paperValue === null ? null : Number((o.mean - paperValue).toFixed(6)),  // no float noise
      sameData: col !== null && isReal(o.dataset), caveat, mean: o.mean, std: o.std,
    });
    const unmatched = (paperRow: string | null, why: string) => row(paperRow, null, null, why);
    const links = table.ours.filter((l) => l.ours.method === o.method && l.ours.variant === o.variant);
    if (!links.length) {
      out.push(unmatched(null, `no row of ${table.id} stands for ${o.method}/${o.variant}`));
      continue;
    }
    for (const link of links) {
      const paperRow = table.rows.find((r) => r.label === link.paperRow);
      if (!paperRow) throw new Error(`${table.id}: link names paper row '${link.paperRow}', which the table does not have`);
      const cols = table.columns.filter((c) => (!link.columns || link.columns.includes(c.key))
        && (isReal(o.dataset) ? c.dataset === o.dataset : !o.paperDataset || c.dataset === o.paperDataset));
      if (!cols.length) {
        const wanted = DATASET_NAMES[(isReal(o.dataset) ? o.dataset : o.paperDataset) as RealDataset];
        const where = link.columns ? `only on ${table.columns.filter((c) => link.columns!.includes(c.key)).map((c) => c.label).join(', ')}` : 'on other datasets';
        out.push(unmatched(paperRow.label, `${table.id} links ${paperRow.label} to ${o.method}/${o.variant} ${where}, not on ${wanted}`));
        continue;
      }
      for (const col of cols) out.push(row(paperRow.label, col, paperRow.values[col.key], caveatFor(o, col)));
    }
  }
  return out;
}

/** Every (method, variant) some paper row is linked to: the names our runs should use. */
export function linkedVariants(): { method: string; variant: string; tables: string[] }[] {
  const seen = new Map<string, { method: string; variant: string; tables: string[] }>();
  for (const t of PAPER_TABLES) {
    for (const l of t.ours) {
      const key = `${l.ours.method}/${l.ours.variant}`;
      const entry = seen.get(key) ?? { ...l.ours, tables: [] };
      if (!entry.tables.includes(t.id)) entry.tables.push(t.id);
      seen.set(key, entry);
    }
  }
  return [...seen.values()];
}
