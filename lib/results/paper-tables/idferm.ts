/**
 * IDFERM's reported numbers (Liu et al., Pattern Recognition 88, 2019):
 * Tables 1–6, the comparisons-per-batch counts of its §4 text, Fig. 10's
 * identity-failure rates and the other numbers in the text. Source: the
 * paper's §4, §5 and Tables 1–6.
 * @see notebooks/04-idferm.ipynb
 */
import { defineTable, PaperColumn, PaperFact, PaperTable } from './types';

const ckplus7: PaperColumn = {
  key: 'ckplus7', label: 'CK+ (7-class)', dataset: 'ckplus', classes: 7, protocol: '10-fold subject-independent CV', aggregation: 'fold-mean',
  note: 'the paper gives no fold rule or frame rule for CK+; 10-fold subject-independent and the last 3 frames are our reading',
};
const ckplus8: PaperColumn = {
  key: 'ckplus8', label: 'CK+ (8-class)', dataset: 'ckplus', classes: 8, protocol: '10-fold subject-independent CV', aggregation: 'fold-mean',
  note: 'with neutral: the first frame of each sequence added as an 8th class (our reading)',
};
const mmi: PaperColumn = {
  key: 'mmi', label: 'MMI', dataset: 'mmi', classes: 6, protocol: '10-fold person-independent CV, sequence-level (mean score of 3 middle frames)', aggregation: 'fold-mean',
  note: '208 frontal sequences of 31 subjects, 624 images',
};
const oulu: PaperColumn = {
  key: 'oulu', label: 'Oulu-CASIA VIS', dataset: 'oulu', classes: 6, protocol: '10-fold individual-independent CV', aggregation: 'fold-mean',
  note: 'VIS camera, normal illumination, last 3 frames: 1,440 images',
};
const hngColumn: PaperColumn = {
  key: 'errors', label: 'identity errors (%)', dataset: 'fer-collection', protocol: 'HNG outputs for the FER images, judged by a face embedding against the FaceNet threshold 1.242', aggregation: 'not-applicable',
};

/** Table 2 measures one whole training per dataset, not an accuracy over folds. */
const timed = (c: PaperColumn): PaperColumn => ({ ...c, protocol: `metric-learning training on ${c.label}`, aggregation: 'not-applicable', note: undefined });

const AUTHORS = 'the same authors\' earlier methods ([6] CVPRW 2017, [7] ISBA 2018)';

export const IDFERM_TABLES: PaperTable[] = [
  defineTable({
    id: 'idferm.table1', paper: 'idferm', kind: 'table', label: 'Table 1',
    title: 'identity errors of the generated neutral faces against the identity-loss weight',
    metric: 'identity-error-pct', columns: [hngColumn],
    rows: [0, 0.001, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05].map((w1, i) => ({
      label: `w1 = ${w1}`, method: 'HNG', params: { w1 }, role: 'proposed' as const,
      cells: [[2.13, 1.77, 1.06, 0.32, 0.13, 0.11, 0.1, 0.1, 0.1, 0.1, 0.1][i]],
    })),
    ours: [
      ...[0, 0.001, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05].map((w1) => (
        { paperRow: `w1 = ${w1}`, ours: { method: 'hng', variant: `w1=${w1}` } })),
      { paperRow: 'w1 = 0', ours: { method: 'hng', variant: 'no-id' } },
      { paperRow: 'w1 = 0.03', ours: { method: 'hng', variant: 'full' }, note: 'our default w1 (the index mapping of the weights in §5.3)' },
    ],
    source: 'paper §5.4, Table 1',
    notes: [
      'The paper calls the weight λ; we name it w1 (the identity-loss weight of Algorithm 1).',
      'The threshold mixes a VGG-Face embedding with FaceNet\'s 1.242 (§5.4): compare the shape of the curve (a fall, then a plateau), not raw percentages.',
      'The text (Fig. 10) says about 2 % fail without the identity loss and none with it, while the table floors at 0.1 %.',
    ],
  }),
  defineTable({
    id: 'idferm.table2', paper: 'idferm', kind: 'table', label: 'Table 2',
    title: 'metric-learning training time on one Titan X GPU',
    metric: 'train-time-min', columns: [ckplus7, ckplus8, mmi, oulu].map(timed),
    rows: [
      { method: 'Triplet loss', role: 'baseline', cells: [324, null, 194, null], printed: ['5 h 24 min', '?', '3 h 14 min', '?'] },
      { method: '2B(N+M) Softmax', ref: '[6]', role: 'authors-earlier', cells: [107, null, 54, null], printed: ['1 h 47 min', '?', '54 min', '?'] },
      { method: 'Data Augmentation', ref: '[7]', role: 'authors-earlier', cells: [191, null, 128, null], printed: ['3 h 11 min', '?', '2 h 8 min', '?'] },
      { method: 'IDFERM', role: 'proposed', cells: [42, 64, 30, 56], printed: ['42 min', '1 h 4 min', '30 min', '56 min'] },
    ],
    ours: [
      { paperRow: 'Triplet loss', ours: { method: 'idferm', variant: 'triplet' } },
      { paperRow: '2B(N+M) Softmax', ours: { method: 'idferm', variant: '2bnm' } },
      { paperRow: 'Data Augmentation', ours: { method: 'idferm', variant: 'data-aug' } },
      { paperRow: 'IDFERM', ours: { method: 'idferm', variant: 'idferm' }, columns: ['ckplus7', 'mmi', 'oulu'] },
      { paperRow: 'IDFERM', ours: { method: 'idferm', variant: 'idferm-8class' }, columns: ['ckplus8'] },
    ],
    source: 'paper §5.5, Table 2',
    notes: [
      'Times converted to minutes; the printed form is kept. "?" in the paper = not reported (null).',
      'The HNG\'s own training (about 6 h, once for all datasets) is not included.',
      'Wall time depends on hardware: compare ratios between methods, not minutes.',
    ],
  }),
  defineTable({
    id: 'idferm.table3', paper: 'idferm', kind: 'table', label: 'Table 3',
    title: 'rank-1 accuracy on CK+ (7 classes) and MMI against earlier methods',
    metric: 'accuracy-pct', columns: [ckplus7, mmi],
    rows: [
      { method: 'MSR', ref: '[13]', role: 'competitor', cells: [91.4, null], printed: [undefined, 'N/A'] },
      { method: 'BNBN', ref: '[42]', role: 'competitor', cells: [96.7, null], printed: [undefined, 'N/A'],
        notes: ['printed "BNBN"; reference [42] is the boosted deep belief network (BDBN)'] },
      { method: 'IBCNN', ref: '[4]', role: 'competitor', cells: [95.1, null], printed: [undefined, 'N/A'] },
      { method: 'STM', ref: '[43]', role: 'competitor', cells: [96.3, null], printed: [undefined, 'N/A'] },
      { method: 'CER (video)', ref: '[44]', role: 'competitor', cells: [92.34, 70.12] },
      { method: 'CDMML (video)', ref: '[45]', role: 'competitor', cells: [96.6, null], printed: [undefined, 'N/A'] },
      { method: 'STM-ExpLet (video)', ref: '[9]', role: 'competitor', cells: [94.19, 75.12] },
      { method: 'DTAGN (video)', ref: '[10]', role: 'competitor', cells: [97.25, 70.2] },
      { method: 'IACNN', ref: '[11]', role: 'competitor', cells: [95.37, 71.55] },
      { method: '2B(N+M) Softmax', ref: '[6]', role: 'authors-earlier', cells: [97.1, 78.53] },
      { method: 'Data Augmentation', ref: '[7]', role: 'authors-earlier', cells: [97.49, 80.26] },
      { method: 'IDFERM', role: 'proposed', cells: [98.35, 81.13] },
    ],
    ours: [
      { paperRow: '2B(N+M) Softmax', ours: { method: 'idferm', variant: '2bnm' } },
      { paperRow: 'Data Augmentation', ours: { method: 'idferm', variant: 'data-aug' } },
      { paperRow: 'IDFERM', ours: { method: 'idferm', variant: 'idferm' } },
    ],
    source: 'paper §5.5, Table 3',
    notes: [
      `[6] and [7] are ${AUTHORS}.`,
      'These values are the "with Multi-PIE pre-training" column of Table 5.',
      '"N/A": not reported (null).',
    ],
  }),
  defineTable({
    id: 'idferm.table4', paper: 'idferm', kind: 'table', label: 'Table 4',
    title: 'rank-1 accuracy on CK+ with neutral (8 classes) against earlier methods',
    metric: 'accuracy-pct', columns: [ckplus8],
    rows: [
      { method: 'AUDB', ref: '[46]', role: 'competitor', cells: [93.70], notes: ['printed "AUDB"; reference [46] is AU-inspired deep networks (AUDN)'] },
      { method: 'CNN + AD', ref: '[47]', role: 'competitor', cells: [96.4] },
      { method: 'FN2EN', ref: '[5]', role: 'competitor', cells: [96.8] },
      { method: 'IDFERM', role: 'proposed', cells: [97.76] },
    ],
    ours: [{ paperRow: 'IDFERM', ours: { method: 'idferm', variant: 'idferm-8class' } }],
    source: 'paper §5.5, Table 4',
    notes: ['Neutral-class accuracy is about 99 % (Fig. 13b; fact idferm.fig13.neutral-accuracy).'],
  }),
  defineTable({
    id: 'idferm.table5', paper: 'idferm', kind: 'table', label: 'Table 5',
    title: 'accuracy with and without Multi-PIE pre-training',
    metric: 'accuracy-pct', columns: [ckplus7, mmi],
    rows: [
      { label: '2B(N+M), no pre-training', method: '2B(N+M) Softmax', ref: '[6]', params: { pretrain: false }, role: 'authors-earlier', cells: [97.03, 78.46] },
      { label: '2B(N+M), pre-training', method: '2B(N+M) Softmax', ref: '[6]', params: { pretrain: true }, role: 'authors-earlier', cells: [97.10, 78.53] },
      { label: 'IDFERM, no pre-training', method: 'IDFERM', params: { pretrain: false }, role: 'proposed', cells: [98.32, 81.11] },
      { label: 'IDFERM, pre-training', method: 'IDFERM', params: { pretrain: true }, role: 'proposed', cells: [98.35, 81.13] },
    ],
    ours: [
      { paperRow: '2B(N+M), no pre-training', ours: { method: 'idferm', variant: '2bnm' } },
      { paperRow: '2B(N+M), pre-training', ours: { method: 'idferm', variant: '2bnm-pretrained' } },
      { paperRow: 'IDFERM, no pre-training', ours: { method: 'idferm', variant: 'idferm' } },
      { paperRow: 'IDFERM, pre-training', ours: { method: 'idferm', variant: 'idferm-pretrained' } },
    ],
    source: 'paper §5.5, Table 5',
    notes: [
      'The paper prints datasets as rows and the four method/pre-training cases as columns; stored transposed.',
      'The caption says "on CK+", but the table also has an MMI row; both are stored.',
      'Our pre-training stage (method idferm-pretrain) trains the RML network on the face database the generator learns from (Multi-PIE in the paper profile, the synthetic face-db otherwise), both 2B(N+M) and IDFERM fine-tuning from the same stage.',
    ],
  }),
  defineTable({
    id: 'idferm.table6', paper: 'idferm', kind: 'table', label: 'Table 6',
    title: 'rank-1 accuracy on Oulu-CASIA VIS (6 classes) against earlier methods',
    metric: 'accuracy-pct', columns: [oulu],
    rows: [
      { method: 'STM-ExpLet (video)', ref: '[9]', role: 'competitor', cells: [74.59] },
      { method: 'DTAGN (video)', ref: '[10]', role: 'competitor', cells: [81.46] },
      { method: 'PPDN', ref: '[48]', role: 'competitor', cells: [84.59] },
      { method: 'FN2EN', ref: '[5]', role: 'competitor', cells: [87.1] },
      { method: 'IDFERM', role: 'proposed', cells: [88.25] },
    ],
    ours: [{ paperRow: 'IDFERM', ours: { method: 'idferm', variant: 'idferm' } }],
    source: 'paper §5.5, Table 6',
    notes: [],
  }),
  defineTable({
    id: 'idferm.comparisons', paper: 'idferm', kind: 'text', label: 'Section 4 (RML) and Section 5.5',
    title: 'distance comparisons per training batch of K queries, by loss',
    metric: 'comparisons-per-batch',
    columns: [{ key: 'k12', label: 'at K = 12, N = M = 5', dataset: 'mmi', protocol: 'one training batch of K queries', aggregation: 'not-applicable',
      note: 'K = 12 is the paper\'s fine-tuning batch on a 6-class set (2 images per class, §5.3), N = M = 5 its MMI setting (§5.5); the counts are our evaluation of the printed formulas there' }],
    rows: [
      { method: 'triplet / (N+1)-tuplet', formula: 'O(K^3)', role: 'competitor', cells: [1728],
        notes: ['K^3: every triplet that could be formed from K samples; a class-balanced batch-all sampler gives only K(K-2) = 120'] },
      { method: 'contrastive / coupled clusters', formula: 'O(K^2)', role: 'competitor', cells: [66], notes: ['K(K-1)/2 pairs'] },
      { method: '(N+M)-tuplet clusters', ref: '[6]', formula: '2(N+M)K', role: 'authors-earlier', cells: [240],
        notes: ['the paper does not explain the factor 2; one H per sample would give (N+M)K = 120'] },
      { method: 'RML (IDFERM)', formula: '2K', role: 'proposed', cells: [24] },
    ],
    ours: [
      { paperRow: 'triplet / (N+1)-tuplet', ours: { method: 'idferm', variant: 'triplet' } },
      { paperRow: '(N+M)-tuplet clusters', ours: { method: 'idferm', variant: '2bnm' } },
      { paperRow: 'RML (IDFERM)', ours: { method: 'idferm', variant: 'idferm' } },
    ],
    source: 'paper §4 (end of the RML section) and §5.5',
    notes: ['The paper prints no table here, only the formulas; the O(·) rows are orders of growth, not exact counts.'],
  }),
  defineTable({
    id: 'idferm.fig10', paper: 'idferm', kind: 'figure', label: 'Fig. 10',
    title: 'generated faces judged a different identity, with and without the identity loss',
    metric: 'identity-error-pct', columns: [hngColumn],
    rows: [
      { label: 'with identity loss', method: 'HNG', params: { identityLoss: true }, role: 'proposed', cells: [0], printed: ['all pass'] },
      { label: 'without identity loss', method: 'HNG', params: { identityLoss: false }, role: 'baseline', cells: [2], printed: ['about 2 %'], approx: ['errors'] },
    ],
    ours: [
      { paperRow: 'with identity loss', ours: { method: 'hng', variant: 'full' } },
      { paperRow: 'without identity loss', ours: { method: 'hng', variant: 'no-id' } },
    ],
    source: 'paper §5.4 and Fig. 10 caption',
    notes: ['Stated in the text; the histogram itself is not available as numbers. Table 1 gives 2.13 % at w1 = 0 and a 0.1 % floor.'],
  }),
];

export const IDFERM_FACTS: PaperFact[] = [
  { id: 'idferm.text.test-time', paper: 'idferm', source: 'paper §5.5', quantity: 'recognition time per query image', value: 50, unit: 'ms', approx: true },
  { id: 'idferm.text.hng-training', paper: 'idferm', source: 'paper §5.5', quantity: 'HNG training time, once for all datasets', value: 6, unit: 'h', approx: true },
  { id: 'idferm.text.facenet-threshold', paper: 'idferm', source: 'paper §5.4', quantity: 'embedding distance above which two faces count as different people', value: 1.242, unit: 'L2 distance', approx: false },
  { id: 'idferm.fig11.best-lambda', paper: 'idferm', source: 'paper §5.4 (Fig. 11)', quantity: 'softmax/RML balance λ giving the best CK+ (7-class) accuracy', value: null, low: 0.95, high: 1, unit: '', approx: false,
    note: 'a range; the curve itself is not given in numbers' },
  { id: 'idferm.fig12.flat-slope', paper: 'idferm', source: 'paper §5.4 (Fig. 12)', quantity: 'LReLU slope range over which CK+ (7-class) accuracy is insensitive', value: null, low: 0.075, high: 0.125, unit: '', approx: false,
    note: 'a range; the curve itself is not given in numbers' },
  { id: 'idferm.fig13.neutral-accuracy', paper: 'idferm', source: 'paper §5.5 (Fig. 13b)', quantity: 'neutral-class accuracy on CK+ (8-class)', value: 99, unit: '%', approx: true },
  { id: 'idferm.text.lambda', paper: 'idferm', source: 'paper §5.3', quantity: 'weight λ of the RML loss in the joint objective', value: 1, unit: '', approx: false },
];
