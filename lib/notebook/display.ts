/**
 * Showing things in a notebook: tables, figures and a live progress line.
 * Inside the tslab kernel these go through tslab's display API; anywhere
 * else (tests, command line) they fall back to plain text on stdout.
 * @see notebooks/00-environment.ipynb
 */
import type { Figure } from '../figures/render';

interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  text(s: string): void;
}
interface Tslab { display: TslabDisplay; newDisplay(): TslabDisplay }

/**
 * tslab's display API when this process is a tslab kernel that loaded the
 * project's own tslab (its display channel is set once the kernel starts),
 * else undefined.
 */
function kernelDisplay(): Tslab | undefined {
  try {
    const channel = require('tslab/dist/jupyter') as { lastWriteDisplayData?: unknown };
    return channel.lastWriteDisplayData ? (require('tslab') as Tslab) : undefined;
  } catch {
    return undefined;
  }
}

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

/** Fewest milliseconds between two progress updates sent to the kernel. */
export const KERNEL_UPDATE_INTERVAL_MS = 250;

/**
 * A single status line updated in place: one output in a notebook (only the
 * last text is kept in the saved file), a carriage-return line on a terminal,
 * and plain lines in logs.
 *
 * In the kernel, updates are sent at most every KERNEL_UPDATE_INTERVAL_MS:
 * tslab sends each display message without waiting for the previous one, and
 * a training loop updating on every step overruns its socket ("Socket is
 * busy writing"), which kills the kernel. `done` always sends its text.
 */
export function progressLine(now: () => number = Date.now): { update(text: string): void; done(text?: string): void } {
  const k = kernelDisplay();
  let last = '';
  if (k) {
    const d = k.newDisplay();
    let sentAt = -Infinity;
    return {
      update(t) {
        last = t;
        if (now() - sentAt < KERNEL_UPDATE_INTERVAL_MS) return;
        sentAt = now();
        d.text(t);
      },
      done(t) {
        d.text(t ?? last);
      },
    };
  }
  const tty = process.stdout.isTTY;
  return {
    update(t) {
      last = t;
      if (tty) process.stdout.write(`\r${t}\x1b[K`);
    },
    done(t) {
      process.stdout.write(tty ? `\r${t ?? last}\x1b[K\n` : `${t ?? last}\n`);
    },
  };
}
