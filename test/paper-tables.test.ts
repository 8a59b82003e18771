// The papers' reported numbers: every table the specs list is stored, every
// value is a valid number (or a null the paper explains), the numbers agree
// with the paper texts and with the differences the papers quote, and
// compareWithPaper joins our results to the right paper cells.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  compareWithPaper, linkedVariants, METRICS, OurResult, PAPER_FACTS, PAPER_TABLES, PAPERS, paperFacts, paperTable,
  paperTableRows, paperTables,
} from '../lib/results/paper-tables';

// The specs and paper texts sit beside the repository (see DESIGN.md).
const SHARED = path.resolve(__dirname, '../../shared');
const specFile = (paper: string) => path.join(SHARED, 'specs', `${paper}.md`);
const paperFile = (paper: string) => path.join(SHARED, 'papers', `${paper}.txt`);
const haveShared = PAPERS.every((p) => fs.existsSync(specFile(p)) && fs.existsSync(paperFile(p)));
const needsShared = haveShared ? {} : { skip: `specs/papers not found under ${SHARED}` };

/** The '### ' headings of a spec's results section ('## 6. Results ...' up to the next '## '). */
function resultsHeadings(paper: string): string[] {
  const lines = fs.readFileSync(specFile(paper), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^## 6\. Results/.test(l));
  assert.ok(start >= 0, `${paper}.md has no '## 6. Results' section`);
  const end = lines.findIndex((l, i) => i > start && /^## /.test(l));
  return lines.slice(start, end < 0 ? undefined : end).filter((l) => l.startsWith('### ')).map((l) => l.slice(4).trim());
}

/**
 * Non-table headings of the results sections and where their numbers are
 * stored (ids of tables or facts), or why nothing numeric is stored. A new
 * heading in a spec fails the test until it is placed here.
 */
const OTHER_HEADINGS: Record<string, { ids: string[] } | { none: string }> = {
  'gndl:Headline numbers': { ids: ['gndl.abstract'] },
  'gndl:Cross-reference': { ids: ['spndl.table4'] },
  'gndl:Figure 7': { ids: ['gndl.fig7', 'gndl.fig7.lambda-start', 'gndl.fig7.ckplus-flat', 'gndl.fig7.peak-lambda'] },
  'gndl:Figure 9': { none: 'labels of seven example faces; no numbers' },
  'gndl:Confusion-matrix facts': { ids: ['gndl.fig6.ckplus-errors'] },
  'idferm:Other numbers in the text': {
    ids: ['idferm.comparisons', 'idferm.fig10', 'idferm.text.test-time', 'idferm.text.hng-training', 'idferm.fig11.best-lambda', 'idferm.fig12.flat-slope'],
  },
};

const allIds = new Set([...PAPER_TABLES.map((t) => t.id), ...PAPER_FACTS.map((f) => f.id)]);

test('every table in each spec\'s results section has an entry, and no table is invented', needsShared, () => {
  for (const paper of PAPERS) {
    const headings = resultsHeadings(paper);
    const specTables = headings.map((h) => /^Table (\d+)\b/.exec(h)).filter((m) => m).map((m) => Number(m![1]));
    assert.ok(specTables.length > 0, `${paper}.md lists no '### Table' heading`);
    for (const n of specTables) {
      const t = paperTable(`${paper}.table${n}`);
      assert.equal(t.label, `Table ${n}`);
      assert.equal(t.paper, paper);
    }
    const stored = paperTables(paper).filter((t) => /^Table \d+$/.test(t.label)).map((t) => Number(t.label.slice(6)));
    assert.deepEqual(stored.sort(), [...specTables].sort(), `${paper}: stored tables differ from the spec's`);
    for (const h of headings.filter((x) => !/^Table \d+/.test(x))) {
      const key = Object.keys(OTHER_HEADINGS).find((k) => k.startsWith(`${paper}:`) && h.startsWith(k.slice(paper.length + 1)));
      assert.ok(key, `${paper}.md results heading '${h}' is not accounted for in OTHER_HEADINGS`);
      const place = OTHER_HEADINGS[key!];
      if ('ids' in place) for (const id of place.ids) assert.ok(allIds.has(id), `'${h}' should be stored as '${id}'`);
    }
  }
});

test('ids are unique and name their paper', () => {
  const ids = [...PAPER_TABLES.map((t) => t.id), ...PAPER_FACTS.map((f) => f.id)];
  assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.filter((x, i) => ids.indexOf(x) !== i).join(', ')}`);
  for (const t of PAPER_TABLES) assert.ok(t.id.startsWith(`${t.paper}.`), t.id);
  for (const f of PAPER_FACTS) assert.ok(f.id.startsWith(`${f.paper}.`), f.id);
});

test('values are numbers in the metric\'s range; a null always carries what the paper printed', () => {
  for (const t of PAPER_TABLES) {
    const m = METRICS[t.metric];
    const keys = t.columns.map((c) => c.key);
    assert.equal(new Set(keys).size, keys.length, `${t.id}: duplicate column keys`);
    const labels = t.rows.map((r) => r.label);
    assert.equal(new Set(labels).size, labels.length, `${t.id}: duplicate row labels`);
    assert.ok(t.rows.length > 0, `${t.id}: no rows`);
    for (const r of t.rows) {
      const where = `${t.id} / ${r.label}`;
      assert.deepEqual(Object.keys(r.values).sort(), [...keys].sort(), `${where}: one value per column`);
      for (const k of keys) {
        const v = r.values[k];
        if (v === null) {
          assert.ok(r.printed?.[k], `${where} / ${k}: null without the printed form that explains it`);
          continue;
        }
        assert.equal(typeof v, 'number', `${where} / ${k}`);
        assert.ok(Number.isFinite(v) && v >= m.min && v <= m.max, `${where} / ${k}: ${v} outside [${m.min}, ${m.max}]`);
        if (m.integer) assert.ok(Number.isInteger(v), `${where} / ${k}: ${v} is not an integer`);
      }
      for (const extra of [Object.keys(r.printed ?? {}), Object.keys(r.marks ?? {}), r.bold ?? [], r.approx ?? [], Object.keys(r.counts ?? {})]) {
        for (const k of extra) assert.ok(keys.includes(k), `${where}: '${k}' is not a column`);
      }
    }
    if (t.kind === 'table') assert.ok(t.rows.some((r) => r.role === 'proposed'), `${t.id}: no row of the paper's own method`);
  }
  for (const f of PAPER_FACTS) {
    if (f.value === null) assert.ok(f.note || (f.low !== undefined && f.high !== undefined), `${f.id}: null without a note or range`);
    if (f.low !== undefined) assert.ok(f.high !== undefined && f.low <= f.high, `${f.id}: bad range`);
  }
});

test('links to our variants name existing rows and columns', () => {
  for (const t of PAPER_TABLES) {
    for (const l of t.ours) {
      assert.ok(t.rows.some((r) => r.label === l.paperRow), `${t.id}: link to missing row '${l.paperRow}'`);
      for (const c of l.columns ?? []) assert.ok(t.columns.some((col) => col.key === c), `${t.id}: link to missing column '${c}'`);
      assert.match(l.ours.variant, /^[a-z0-9][a-z0-9.=-]*$/, `${t.id}: variant id '${l.ours.variant}'`);
    }
  }
  const spndl = linkedVariants().filter((v) => v.method === 'spndl').map((v) => v.variant).sort();
  assert.deepEqual(spndl, ['ndf', 'spndl', 'spndl-won', 'won-nospl']);
  // the papers' target-only baselines are the shared baseline's runs, in every paper that has one
  const shared = linkedVariants().filter((v) => v.method === 'baseline');
  assert.deepEqual(shared.map((v) => v.variant).sort(), ['plain', 'spl']);
  assert.ok(['spndl.table4', 'gndl.table1'].every((t) => shared.find((v) => v.variant === 'plain')!.tables.includes(t)));
});

/** Tables stored with the paper's rows and columns swapped: their printed lines are our columns. */
const TRANSPOSED = new Set(['ddl.table2', 'idferm.table5', 'idferm.table1']);
/** The decimal numbers of a line, in order ('97.30†' -> 97.3; integers such as citation numbers are left out). */
const decimalsIn = (line: string) => (line.match(/\d+\.\d+/g) ?? []).map(Number);

test('each stored row of accuracies is a printed line of the paper: same numbers, same order, blanks where it prints none', needsShared, () => {
  for (const t of PAPER_TABLES) {
    if (!['accuracy-pct', 'identity-error-pct'].includes(t.metric) || t.kind === 'figure') continue;
    const lines = fs.readFileSync(paperFile(t.paper), 'utf8').split('\n').map(decimalsIn);
    const sequences = TRANSPOSED.has(t.id)
      ? t.columns.map((c) => ({ what: c.label, values: t.rows.map((r) => r.values[c.key]) }))
      : t.rows.map((r) => ({ what: r.label, values: t.columns.map((c) => r.values[c.key]) }));
    for (const { what, values } of sequences) {
      const want = values.filter((x): x is number => x !== null);
      assert.ok(lines.some((have) => have.length === want.length && have.every((h, i) => Math.abs(h - want[i]) < 1e-9)),
        `${t.id} / ${what}: no line of papers/${t.paper}.txt prints exactly ${want.join(', ')}`);
    }
  }
});

test('training times equal their printed form, which is a line of the paper', needsShared, () => {
  const t = paperTable('idferm.table2');
  const lines = fs.readFileSync(paperFile('idferm'), 'utf8').split('\n').map((l) => l.replace(/\s+/g, ''));
  for (const r of t.rows) {
    const printed = t.columns.map((c) => r.printed![c.key]);
    t.columns.forEach((c, i) => {
      const m = /^(?:(\d+) h)?\s*(?:(\d+) min)?$/.exec(printed[i]);
      assert.equal(m ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : null, r.values[c.key], `${r.label} / ${c.key}: '${printed[i]}'`);
    });
    const squeezed = printed.map((p) => p.replace(/\s+/g, ''));
    assert.ok(lines.some((l) => squeezed.every((p) => l.includes(p))), `${r.label}: no line prints ${printed.join(' | ')}`);
  }
});

test('figure readings occur in the paper texts', needsShared, () => {
  for (const t of PAPER_TABLES.filter((x) => x.kind === 'figure' && x.id !== 'idferm.fig10')) {
    const text = fs.readFileSync(paperFile(t.paper), 'utf8');
    for (const r of t.rows) {
      for (const [k, v] of Object.entries(r.values)) {
        if (v === null) continue;
        // stated in percent (Table 1 anchors) or as a fraction (GNDL Fig. 7: "around 0.84")
        const found = [1, 0.01].some((scale) => {
          const s = String(Number((v * scale).toPrecision(6))).replace('.', '\\.');
          return new RegExp(`(^|[^\\d.])${s}0*(?![\\d])`).test(text);
        });
        assert.ok(found, `${t.id} / ${r.label} / ${k}: ${v} not found in papers/${t.paper}.txt`);
      }
    }
  }
});

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 0.005 + 1e-9, `${what}: ${a} vs ${b}`);
const v = (id: string, row: string, col: string): number => {
  const value = paperTable(id).rows.find((r) => r.label === row)?.values[col];
  assert.equal(typeof value, 'number', `${id} / ${row} / ${col}`);
  return value as number;
};

test('pooled counts reproduce the printed percentages', () => {
  let n = 0;
  for (const t of PAPER_TABLES) for (const r of t.rows) for (const [k, c] of Object.entries(r.counts ?? {})) {
    close(Math.round((10000 * c.correct) / c.total) / 100, r.values[k]!, `${t.id} / ${r.label} / ${k}`);
    n++;
  }
  assert.ok(n >= 20, 'counts are stored for SPNDL and GNDL rows');
});

test('the differences the papers quote or their tables imply follow from the stored tables', () => {
  // SPNDL: differences implied by Tables 1–4, and the §4.3 text
  const s = (id: string, row: string, col: string) => v(id, row, col);
  close(s('spndl.table1', 'SPNDL', 'ckplus') - s('spndl.table1', 'FDRL', 'ckplus'), 0.15, 'SPNDL − FDRL CK+');
  close(s('spndl.table2', 'SPNDL', 'oulu') - s('spndl.table2', 'FDRL', 'oulu'), 1.88, 'SPNDL − FDRL Oulu');
  close(s('spndl.table1', 'SPNDL', 'ckplus') - s('spndl.table1', 'DDL', 'ckplus'), 0.53, 'SPNDL − DDL CK+');
  close(s('spndl.table3', 'SPNDL (w/o neutral image)', 'rafdb') - s('spndl.table3', 'FDRL', 'rafdb'), -0.39, 'w/o-neutral − FDRL RAF');
  close(s('spndl.table3', 'SPNDL (w/o neutral image)', 'rafdb') - s('spndl.table3', 'Baseline (ResNet-18)', 'rafdb'), 1.95, 'w/o-neutral − Baseline RAF');
  const t4 = (row: string, col: string) => s('spndl.table4', row, col);
  for (const [a, b, ck, ou] of [
    ['NDF', 'Baseline', 1.74, 2.01], ['Baseline + SPL', 'Baseline', 1.53, 0.76],
    ['SPNDL', 'NDF', 0.40, 0.56], ['SPNDL', 'Baseline + SPL', 0.61, 1.81],
  ] as const) {
    close(t4(a, 'ckplus') - t4(b, 'ckplus'), ck, `${a} − ${b} CK+`);
    close(t4(a, 'oulu') - t4(b, 'oulu'), ou, `${a} − ${b} Oulu`);
  }
  close(s('spndl.table1', 'SPNDL', 'ckplus') - s('spndl.table1', 'SPNDL (w/o neutral image)', 'ckplus'), 0.51, 'SPNDL − w/o-neutral CK+');
  close(s('spndl.table2', 'SPNDL', 'oulu') - s('spndl.table2', 'SPNDL (w/o neutral image)', 'oulu'), 1.60, 'SPNDL − w/o-neutral Oulu');
  // GNDL: differences implied by Table 1
  const g = (row: string, col: string) => v('gndl.table1', row, col);
  [2.14, 2.50, 3.90].forEach((d, i) => { const c = ['ckplus', 'oulu', 'mmi'][i]; close(g('GNDL', c) - g('Baseline (ResNet-18)', c), d, `GNDL − Baseline ${c}`); });
  [0.15, 1.81, 1.23].forEach((d, i) => { const c = ['ckplus', 'oulu', 'mmi'][i]; close(g('GNDL', c) - g('FDRL', c), d, `GNDL − FDRL ${c}`); });
  // IDFERM §5.5 text
  const i3 = (row: string, col: string) => v('idferm.table3', row, col);
  close(i3('IDFERM', 'ckplus7') - i3('2B(N+M) Softmax', 'ckplus7'), 1.25, 'IDFERM − [6] CK+');
  close(i3('IDFERM', 'mmi') - i3('2B(N+M) Softmax', 'mmi'), 2.60, 'IDFERM − [6] MMI');
  close(i3('IDFERM', 'ckplus7') - i3('Data Augmentation', 'ckplus7'), 0.86, 'IDFERM − [7] CK+');
  close(i3('IDFERM', 'mmi') - i3('Data Augmentation', 'mmi'), 0.87, 'IDFERM − [7] MMI');
  // IDFERM §4: comparisons per batch at K = 12, N = M = 5
  const cmp = (row: string) => v('idferm.comparisons', row, 'k12');
  assert.equal(cmp('RML (IDFERM)'), 2 * 12);
  assert.equal(cmp('(N+M)-tuplet clusters'), 2 * (5 + 5) * 12);
  assert.equal(cmp('triplet / (N+1)-tuplet'), 12 ** 3);
  assert.equal(cmp('contrastive / coupled clusters'), (12 * 11) / 2);
  // DDL §4.3 text: Baseline_at − Baseline, Baseline_mat − Baseline_at
  const cols = ['ckplus', 'mmi', 'oulu', 'rafdb', 'sfew'];
  const d = (row: string, c: string) => v('ddl.table2', row, c);
  [1.56, 1.55, 2.78, 0.74, 0.46].forEach((x, i) => close(d('Baseline_at', cols[i]) - d('Baseline', cols[i]), x, `Baseline_at − Baseline ${cols[i]}`));
  [0.15, 0.20, 0.35, 0.27, 0.92].forEach((x, i) => close(d('Baseline_mat', cols[i]) - d('Baseline_at', cols[i]), x, `Baseline_mat − Baseline_at ${cols[i]}`));
});

test('numbers that appear in more than one table agree', () => {
  // DDL: Tables 3/4 repeat the best Table 2 variant; bold marks that best value
  const t2 = paperTable('ddl.table2');
  for (const c of t2.columns) {
    const best = Math.max(...t2.rows.map((r) => r.values[c.key]!));
    const bold = t2.rows.filter((r) => r.bold?.includes(c.key));
    assert.equal(bold.length, 1, `ddl.table2 ${c.key}: one bold cell`);
    assert.equal(bold[0].values[c.key], best, `ddl.table2 ${c.key}: bold is the best`);
    const wide = c.key === 'rafdb' || c.key === 'sfew';
    assert.equal(v(wide ? 'ddl.table4' : 'ddl.table3', 'DDL (proposed)', c.key), best, `DDL proposed ${c.key}`);
  }
  // IDFERM: Table 3 = the pre-trained column of Table 5
  for (const [row3, row5] of [['IDFERM', 'IDFERM, pre-training'], ['2B(N+M) Softmax', '2B(N+M), pre-training']]) {
    for (const c of ['ckplus7', 'mmi']) assert.equal(v('idferm.table3', row3, c), v('idferm.table5', row5, c), `${row3} ${c}`);
  }
  // SPNDL and GNDL share one baseline; SPNDL Tables 1–2 repeat Table 4
  for (const c of ['ckplus', 'oulu']) {
    assert.equal(v('gndl.table1', 'Baseline (ResNet-18)', c), v('spndl.table4', 'Baseline', c));
    assert.equal(v(c === 'ckplus' ? 'spndl.table1' : 'spndl.table2', 'SPNDL', c), v('spndl.table4', 'SPNDL', c));
  }
  // SPNDL and GNDL quote DDL as DDL printed itself
  assert.equal(v('spndl.table1', 'DDL', 'ckplus'), v('ddl.table3', 'DDL (proposed)', 'ckplus'));
  assert.equal(v('spndl.table2', 'DDL', 'oulu'), v('ddl.table3', 'DDL (proposed)', 'oulu'));
  assert.equal(v('spndl.table3', 'DDL', 'rafdb'), v('ddl.table4', 'DDL (proposed)', 'rafdb'));
  for (const c of ['ckplus', 'oulu', 'mmi']) assert.equal(v('gndl.table1', 'DDL', c), v('ddl.table3', 'DDL (proposed)', c));
  // GNDL Fig. 7 at λ = 5 is Table 1
  for (const c of ['ckplus', 'oulu', 'mmi']) assert.equal(v('gndl.fig7', 'λ = 5', c), v('gndl.table1', 'GNDL', c));
});

const run = (o: Partial<OurResult> & Pick<OurResult, 'method' | 'variant' | 'mean'>): OurResult =>
  ({ std: 1.5, dataset: 'synfer', profile: 'lite', ...o });

test('compareWithPaper puts synthetic results beside every linked paper column, marked as a different experiment', () => {
  const rows = compareWithPaper('spndl.table4', [run({ method: 'spndl', variant: 'spndl', mean: 90 }), run({ method: 'spndl', variant: 'ndf', mean: 88 })]);
  assert.deepEqual(rows.map((r) => [r.variant, r.paperRow, r.paperDataset, r.paperValue]), [
    ['spndl', 'SPNDL', 'CK+', 99.69], ['spndl', 'SPNDL', 'Oulu-CASIA', 90.14],
    ['ndf', 'NDF', 'CK+', 99.29], ['ndf', 'NDF', 'Oulu-CASIA', 89.58],
  ]);
  close(rows[1].difference!, 90 - 90.14, 'difference');
  assert.equal(rows[0].ours, '90.00 ± 1.50');
  for (const r of rows) {
    assert.equal(r.sameData, false);
    assert.match(r.caveat, /not the same experiment.*synthetic 'synfer'.*lite.*real/);
    assert.equal(r.dataset, 'synfer');
    assert.equal(r.profile, 'lite');
  }
  const only = compareWithPaper('spndl.table4', [run({ method: 'spndl', variant: 'spndl', mean: 90, paperDataset: 'oulu' })]);
  assert.deepEqual(only.map((r) => r.paperValue), [90.14]);
});

test('compareWithPaper joins real-data results to their own dataset only, and per-column links', () => {
  const real = compareWithPaper('gndl.table1', [run({ method: 'gndl', variant: 'gndl', mean: 85, std: null, dataset: 'mmi', profile: 'paper' })]);
  assert.equal(real.length, 1);
  assert.equal(real[0].paperValue, 86.46);
  assert.equal(real[0].sameData, true);
  assert.equal(real[0].ours, '85.00');
  assert.match(real[0].caveat, /same dataset/);
  // DDL Table 3 picked a different variant per dataset
  const ddl = compareWithPaper('ddl.table3', [
    run({ method: 'ddl', variant: 'ddl-gar-id-il', mean: 80 }), run({ method: 'ddl', variant: 'ddl-gar-id', mean: 81 }),
  ]);
  assert.deepEqual(ddl.map((r) => [r.variant, r.paperDataset]), [['ddl-gar-id-il', 'CK+'], ['ddl-gar-id-il', 'MMI'], ['ddl-gar-id', 'Oulu-CASIA']]);
  const wrongColumn = compareWithPaper('ddl.table3', [run({ method: 'ddl', variant: 'ddl-gar-id', mean: 81, dataset: 'ckplus' })]);
  assert.equal(wrongColumn.length, 1);
  assert.equal(wrongColumn[0].paperValue, null);
  assert.match(wrongColumn[0].caveat, /only on Oulu-CASIA, not on CK\+/);
});

test('compareWithPaper keeps results no paper row stands for, and paper cells left empty, with null differences', () => {
  const rows = compareWithPaper('gndl.table1', [run({ method: 'gndl', variant: 'gndl-lambda0', mean: 70 })]);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].paperRow, null);
  assert.equal(rows[0].difference, null);
  assert.match(rows[0].caveat, /no row of gndl.table1 stands for gndl\/gndl-lambda0/);
  const times = compareWithPaper('idferm.table2', [run({ method: 'idferm', variant: '2bnm', mean: 3, std: 0.2 })]);
  assert.deepEqual(times.map((r) => [r.paperDataset, r.paperValue, r.difference]), [
    ['CK+ (7-class)', 107, 3 - 107], ['CK+ (8-class)', null, null], ['MMI', 54, 3 - 54], ['Oulu-CASIA VIS', null, null],
  ]);
});

test('compareWithPaper errors clearly on bad input', () => {
  assert.throws(() => compareWithPaper('spndl.table9', []), /unknown paper table 'spndl\.table9'; known ids: spndl\.table1, /);
  assert.throws(() => paperTables('xyz'), /unknown paper 'xyz'/);
  assert.throws(() => compareWithPaper('ddl.table1', [run({ method: 'ddl', variant: 'baseline', mean: 1 })]), /configurations, not results/);
  assert.throws(() => compareWithPaper('spndl.table1', [run({ method: 'spndl', variant: 'spndl', mean: 0.93 })]), /percent/);
  assert.throws(() => compareWithPaper('spndl.table1', [run({ method: 'spndl', variant: 'spndl', mean: 130 })]), /ours\[0\] \(spndl\/spndl\): mean 130 is outside/);
  assert.throws(() => compareWithPaper('spndl.table1', [run({ method: 'spndl', variant: 'spndl', mean: 90, std: -1 })]), /std -1/);
  assert.throws(() => compareWithPaper('spndl.table1', [run({ method: 'spndl', variant: 'spndl', mean: 90, paperDataset: 'mmi' })]), /paperDataset 'mmi' is not a column/);
});

test('paperTableRows shows the table as printed; facts are grouped by paper', () => {
  const rows = paperTableRows('idferm.table2');
  assert.deepEqual(rows[0], { method: 'Triplet loss', role: 'baseline', 'CK+ (7-class)': '5 h 24 min', 'CK+ (8-class)': '?', MMI: '3 h 14 min', 'Oulu-CASIA VIS': '?' });
  const ddl = paperTableRows('ddl.table3');
  assert.equal(ddl.find((r) => r.method === 'PPDN')!['CK+'], '97.3†');
  assert.equal(paperTableRows('spndl.table1')[0].setting, 'sequence-based');
  assert.ok(paperFacts('spndl').some((f) => f.value === null && /lost/.test(f.note ?? '')));
  assert.deepEqual(paperFacts('ddl'), []);
});
