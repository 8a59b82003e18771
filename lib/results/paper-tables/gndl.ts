/**
 * GNDL's reported numbers (Wu et al., ACM MM 2023): Table 1, the abstract's
 * inconsistent headline numbers, what the text says about Fig. 7 (λ
 * sensitivity) and Fig. 6 (confusion matrices). Source: the paper's
 * abstract, §1 and §4, and Table 1.
 * @see notebooks/03-gndl.ipynb
 */
import { defineTable, PaperColumn, PaperFact, PaperTable } from './types';

const CV = '10-fold subject-independent CV';
const ckplus: PaperColumn = {
  key: 'ckplus', label: 'CK+', dataset: 'ckplus', classes: 7, protocol: CV, aggregation: 'fold-mean',
  note: 'the paper reports the mean over folds; the CK+ values also equal pooled counts k/981',
};
const oulu: PaperColumn = {
  key: 'oulu', label: 'Oulu-CASIA', dataset: 'oulu', classes: 6, protocol: CV, aggregation: 'fold-mean',
  note: 'equal folds, so pooled accuracy and the per-fold mean coincide',
};
const mmi: PaperColumn = {
  key: 'mmi', label: 'MMI', dataset: 'mmi', classes: 6, protocol: CV, aggregation: 'fold-mean',
  note: 'the values are not k/615 for any k, so at least MMI is a per-fold mean (as §4.1 says)',
};

const DDL_BEST = "DDL's numbers are its best variant per dataset (DDL Table 2)";

export const GNDL_TABLES: PaperTable[] = [
  defineTable({
    id: 'gndl.table1', paper: 'gndl', kind: 'table', label: 'Table 1',
    title: 'accuracy on CK+, Oulu-CASIA and MMI against earlier methods',
    metric: 'accuracy-pct', columns: [ckplus, oulu, mmi],
    rows: [
      { method: 'STM-E', ref: '[22]', year: 2014, setting: 'sequence-based', role: 'competitor', cells: [94.19, 74.59, 75.12] },
      { method: '3DCNN-DAP', ref: '[21]', year: 2014, setting: 'sequence-based', role: 'competitor', cells: [92.40, null, 63.40], printed: [undefined, '—', undefined] },
      { method: 'DTAGN', ref: '[13]', year: 2015, setting: 'sequence-based', role: 'competitor', cells: [97.25, 81.46, null], printed: [undefined, undefined, '—'] },
      { method: 'IACNN', ref: '[26]', year: 2017, setting: 'image-based', role: 'competitor', cells: [95.37, null, 71.55], printed: [undefined, '—', undefined] },
      { method: 'DLP-CNN', ref: '[19]', year: 2017, setting: 'image-based', role: 'competitor', cells: [95.78, null, 78.46], printed: [undefined, '—', undefined] },
      { method: 'FN2EN', ref: '[8]', year: 2017, setting: 'image-based', role: 'competitor', cells: [98.60, 87.71, null], printed: [undefined, undefined, '—'] },
      { method: 'DESTN', ref: '[41]', year: 2017, setting: 'sequence-based', role: 'competitor', cells: [98.50, 86.25, 81.18],
        notes: ['Zhang et al. TIP 2017; DDL lists the same numbers as PHRNN-MSCNN'] },
      { method: 'GCNet_S1R1', ref: '[14]', year: 2017, setting: 'image-based*', role: 'competitor', cells: [97.93, 86.11, 81.53] },
      { method: 'DeRL', ref: '[39]', year: 2018, setting: 'image-based*', role: 'competitor', cells: [97.30, 88.0, 73.23],
        notes: ['DDL Table 3 quotes DeRL on CK+ as 97.37'] },
      { method: 'DDL', ref: '[32]', year: 2020, setting: 'image-based', role: 'competitor', cells: [99.16, 88.26, 83.67] },
      { method: 'FDRL', ref: '[33]', year: 2021, setting: 'image-based', role: 'competitor', cells: [99.54, 88.26, 85.23] },
      { method: 'Baseline (ResNet-18)', setting: 'image-based', role: 'baseline', cells: [97.55, 87.57, 82.56],
        counts: { ckplus: { correct: 957, total: 981 }, oulu: { correct: 1261, total: 1440 } },
        notes: ["identical to SPNDL's baseline on CK+ and Oulu-CASIA"] },
      { method: 'GNDL', setting: 'image-based*', role: 'proposed', cells: [99.69, 90.07, 86.46],
        counts: { ckplus: { correct: 978, total: 981 }, oulu: { correct: 1297, total: 1440 } } },
    ],
    ours: [
      { paperRow: 'Baseline (ResNet-18)', ours: { method: 'baseline', variant: 'plain' } },
      { paperRow: 'GNDL', ours: { method: 'gndl', variant: 'gndl' }, note: 'λ = 5' },
      { paperRow: 'DDL', ours: { method: 'ddl', variant: 'ddl-gar-id-il' }, columns: ['ckplus', 'mmi'], note: DDL_BEST },
      { paperRow: 'DDL', ours: { method: 'ddl', variant: 'ddl-gar-id' }, columns: ['oulu'], note: DDL_BEST },
    ],
    source: 'paper §4.3, Table 1',
    notes: [
      '"*" in the Setting column: the method uses neutral faces in training but not at test, as GNDL does.',
      '"—": no number printed for that dataset (stored as null).',
      'Competitor rows are quoted from their own papers; cited numbers differ slightly between papers (e.g. DeRL on CK+). Each table is stored as printed.',
      'No validation set; whether the final or the best epoch was reported is not stated (§4.1–4.2).',
    ],
  }),
  defineTable({
    id: 'gndl.abstract', paper: 'gndl', kind: 'text', label: 'Abstract',
    title: 'headline accuracies in the abstract and contribution list, against Table 1',
    metric: 'accuracy-pct', columns: [ckplus, oulu, mmi],
    rows: [
      { label: 'abstract and contribution 3', method: 'GNDL', role: 'proposed', cells: [99.69, 90.14, 89.08] },
      { label: 'Table 1 and §4.3', method: 'GNDL', role: 'proposed', cells: [99.69, 90.07, 86.46] },
    ],
    ours: [],
    source: 'paper abstract, §1 contribution 3, §4.3',
    notes: [
      'The abstract disagrees with Table 1 on Oulu-CASIA and MMI; 90.14 and 89.08 are SPNDL\'s Oulu-CASIA and RAF-DB numbers.',
      'Compare against gndl.table1, not against this entry (our choice: Table 1 and §4.3 agree with each other).',
    ],
  }),
  defineTable({
    id: 'gndl.fig7', paper: 'gndl', kind: 'figure', label: 'Fig. 7',
    title: 'accuracy against the neutral-loss weight λ: the only points stated in numbers',
    metric: 'accuracy-pct', columns: [ckplus, oulu, mmi],
    rows: [
      { label: 'λ = 5', method: 'GNDL', params: { lambda: 5 }, role: 'proposed', cells: [99.69, 90.07, 86.46],
        notes: ["the paper's setting; these are Table 1's values, which the curves must pass through"] },
      { label: 'small λ', method: 'GNDL', params: { lambda: 'small (from 0.1)' }, role: 'proposed', cells: [null, null, 84],
        printed: ['not given', 'not given', 'about 0.84'], approx: ['mmi'],
        notes: ['the text says MMI accuracy fluctuates around 0.84 for small λ'] },
    ],
    ours: [{ paperRow: 'λ = 5', ours: { method: 'gndl', variant: 'gndl' } }],
    source: 'paper §4.4, Fig. 7',
    notes: [
      'The figure plots accuracy as a fraction; stored here in percent like every other accuracy.',
      'The other points of the curves are not published; only their shape is described (see the gndl.fig7.* facts).',
    ],
  }),
];

export const GNDL_FACTS: PaperFact[] = [
  { id: 'gndl.table1.lambda', paper: 'gndl', source: 'paper §4.2', quantity: 'weight λ of the neutral-feature loss used for Table 1', value: 5, unit: '', approx: false },
  { id: 'gndl.fig7.lambda-start', paper: 'gndl', source: 'paper §4.4', quantity: 'smallest λ in the sensitivity sweep', value: 0.1, unit: '', approx: false },
  { id: 'gndl.fig7.ckplus-flat', paper: 'gndl', source: 'paper §4.4', quantity: 'λ range over which CK+ accuracy stays high', value: null, low: 0.1, high: 10, unit: '', approx: true,
    note: 'the same paragraph also says the drop starts at λ = 10 (§4.4 contradicts itself); do not treat the knee as a check' },
  { id: 'gndl.fig7.peak-lambda', paper: 'gndl', source: 'paper §4.4', quantity: 'λ at which Oulu-CASIA and MMI accuracy peak', value: 5, unit: '', approx: true },
  { id: 'gndl.fig6.ckplus-errors', paper: 'gndl', source: 'paper §4.3 (Fig. 6a)', quantity: 'misclassified CK+ samples (all surprise predicted as contempt)', value: 3, unit: 'samples', approx: false },
];
