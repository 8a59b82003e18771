/**
 * Showing things in a notebook: tables and figures (the live progress line
 * is lib/core/progress.ts, so that data loading and training can use it).
 * Inside the tslab kernel these go through tslab's display API; anywhere
 * else (tests, command line) they fall back to plain text on stdout.
 * @see notebooks/00-environment.ipynb
 */
import type { Figure } from '../figures/render';
import { kernelDisplay } from '../core/progress';

type Cell = string | number | boolean | null | undefined;
/** Anything with rows: an array of records, or a danfojs DataFrame (anything with columns and 2-D values). */
export type TableLike = Record<string, Cell>[] | { columns: string[]; values: unknown };

function toRows(t: TableLike): { columns: string[]; rows: Cell[][] } {
  if (Array.isArray(t)) {
    const columns = [...new Set(t.flatMap((r) => Object.keys(r)))];
    return { columns, rows: t.map((r) => columns.map((c) => r[c])) };
  }
  const values = t.values as unknown[];
  if (!Array.isArray(values) || values.some((r) => !Array.isArray(r))) {
    throw new Error('showTable: expected rows of values (a DataFrame, not a Series)');
  }
  return { columns: t.columns, rows: values as Cell[][] };
}

function format(v: Cell, digits: number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(digits);
  return v === null || v === undefined ? '' : String(v);
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Renders rows as an HTML table (for notebooks) or aligned text. */
export function showTable(table: TableLike, opts: { caption?: string; digits?: number } = {}): void {
  const { columns, rows } = toRows(table);
  const cells = rows.map((r) => r.map((v) => format(v, opts.digits ?? 3)));
  const k = kernelDisplay();
  if (k) {
    const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
    const body = cells.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
    const caption = opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : '';
    k.display.html(`<table>${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`);
    return;
  }
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
  if (opts.caption) console.log(opts.caption);
  console.log([line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n'));
}

/** Shows a rendered figure inline (SVG), or prints where its files are. */
export function showFigure(fig: Figure): void {
  const k = kernelDisplay();
  if (k) k.display.svg(fig.svg);
  else console.log(`figure ${fig.name}: ${fig.files.join(', ')}`);
}

/** Shows markdown in a notebook, plain text elsewhere. */
export function showMarkdown(md: string): void {
  const k = kernelDisplay();
  if (k) k.display.markdown(md);
  else console.log(md);
}
