// Notebook display helpers fall back to text outside the kernel; tables take
// records or a danfojs DataFrame as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dfd from 'danfojs-node';
import { showTable } from '../lib/notebook/display';

function captured(fn: () => void): string {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => { lines.push(a.join(' ')); };
  try { fn(); } finally { console.log = log; }
  return lines.join('\n');
}

test('records and DataFrames print as the same aligned table', () => {
  const rows = [{ variant: 'baseline', accuracy: 0.3125 }, { variant: 'spndl', accuracy: 0.5 }];
  const fromRows = captured(() => showTable(rows, { digits: 2 }));
  assert.equal(fromRows, ['variant   accuracy', '--------  --------', 'baseline  0.31    ', 'spndl     0.50    '].join('\n'));
  assert.equal(captured(() => showTable(new dfd.DataFrame(rows), { digits: 2 })), fromRows);
});

test('a Series is refused with a clear message', () => {
  assert.throws(() => showTable(new dfd.Series([1, 2]) as never), /expected rows of values \(a DataFrame, not a Series\)/);
});
