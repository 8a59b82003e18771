/**
 * A live progress line, and how output reaches a tslab kernel. Data loading,
 * the trainer's callers and the studies all report progress this way, so it
 * sits below them; lib/notebook/display.ts shows tables and figures through
 * the same kernel check.
 * @see notebooks/00-environment.ipynb
 */

export interface TslabDisplay {
  html(s: string): void;
  markdown(s: string): void;
  svg(s: string): void;
  png(b: Uint8Array): void;
  text(s: string): void;
}
export interface Tslab { display: TslabDisplay; newDisplay(): TslabDisplay }

/** A status sink: `update` replaces the line, `done` ends it. */
export interface Progress { update(text: string): void; done(text?: string): void }

/**
 * tslab's display API when this process is a tslab kernel that loaded the
 * project's own tslab (its display channel is set once the kernel starts),
 * else undefined.
 */
export function kernelDisplay(): Tslab | undefined {
  try {
    const channel = require('tslab/dist/jupyter') as { lastWriteDisplayData?: unknown };
    return channel.lastWriteDisplayData ? (require('tslab') as Tslab) : undefined;
  } catch {
    return undefined;
  }
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
export function progressLine(now: () => number = Date.now): Progress {
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
