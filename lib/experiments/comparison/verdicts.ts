/**
 * Notebook 06's questions, each answered from the stored numbers with the
 * shared paired test over folds (../../analysis/paired.ts).
 * @see notebooks/06-comparison.ipynb
 */
import { formatPaired, pairedTest, type PairedTest } from '../../analysis/paired';
import { meanStd } from '../../analysis/stats';
import type { FaceApiScore } from '../../models/face-api-expression';
import type { Row } from '../../results/store';
import { aboveChance, type Benchmark, FACTORS, pointKey, robustnessRows } from './benchmark';
import { pm, signed } from './format';
import { leakLabel, type LeakageRow, type ModelAnalysis } from './leakage';
import type { MethodResult } from './rows';

const listed = (xs: { label: string }[]) => xs.map((x) => x.label).join(', ');

/**
 * The notebook's questions, each answered from the stored numbers; every
 * comparison of two runs (or of a probe with chance) is the shared paired
 * test over folds: p < 0.05 in a paired t-test, and a 'no' also when the
 * 95 % interval rules out a gain of a point or more.
 */
export function comparisonVerdicts(
  results: MethodResult[], bench: Benchmark | null, analysis: ModelAnalysis | null, faceApi: FaceApiScore | null
): Row[] {
  const out: Row[] = [];
  const others = results.filter((r): r is MethodResult & { vsBaseline: PairedTest } => r.vsBaseline !== null);
  const beat = others.filter((r) => r.vsBaseline.verdict === 'yes');
  const worse = others.filter((r) => pairedTest(r.vsBaseline.diffs.map((x) => -x)).verdict === 'yes');
  out.push({
    question: `Does any method beat the baseline (paired t-test over folds, p < 0.05; ${others.length} tests, `
      + 'no multiplicity correction)?',
    numbers: others.map((r) => `${r.label} ${formatPaired(r.vsBaseline)}`).join('; '),
    answer: beat.length ? `yes: ${listed(beat)}` : 'no',
  });
  out.push({
    question: 'Does any method fall below the baseline (p < 0.05)?', numbers: '(same tests)',
    answer: worse.length ? `yes: ${listed(worse)}` : 'no',
  });
  const small = others.filter((r) => r.vsBaseline.verdict === 'no' && r.vsBaseline.mean >= 0);
  out.push({
    question: 'Which gains, if any, are smaller than a point with 95 % confidence?',
    numbers: others.map(({ label, vsBaseline: { ci } }) => `${label} 95 % CI ${signed(ci[0])} to ${signed(ci[1])} pp`).join('; '),
    answer: small.length ? listed(small) : 'none',
  });
  const ranked = [...results].sort((a, b) => meanStd(b.accuracy).mean - meanStd(a.accuracy).mean);
  if (ranked.length >= 2) {
    const [top, next] = ranked;
    const d = pairedTest(top.accuracy.map((a, i) => a - next.accuracy[i]));
    out.push({
      question: 'Is the most accurate method ahead of the runner-up (p < 0.05)?',
      numbers: `${top.label} ${pm(top.accuracy)} % vs ${next.label} ${pm(next.accuracy)} %; paired ${formatPaired(d)}`,
      answer: d.verdict === 'yes' ? `yes: ${top.label}` : `${d.verdict}: ${top.label} leads by less than the test can resolve`,
    });
  }
  if (bench) {
    for (const factor of FACTORS) {
      const rows = robustnessRows(bench).filter((r) => r.factor === factor);
      if (!rows.length) continue;
      const robust = rows.filter((r) => r['more robust'] === 'yes');
      const base = rows.find((r) => r.method === 'Baseline');
      // losing accuracy needs some to lose: below two binomial standard errors above chance, a drop is noise
      const learnt = bench.points.filter((p) => p.factor === factor).some(({ point }) => {
        const c = bench.comparisons.get(pointKey(point))!;
        return Object.keys(c.runs).some((method) => aboveChance(c, method));
      });
      out.push({
        question: `As ${factor === 'confound' ? 'the identity confound' : factor === 'pose' ? 'the pose range' : 'the illumination range'} `
          + `grows (${rows[0].levels}), does any method lose less accuracy than the baseline (p < 0.05)?`,
        numbers: `baseline loses ${base?.['accuracy lost (pp)'] ?? 'n/a'} pp; `
          + `${rows.filter((r) => r.method !== 'Baseline').map((r) => `${r.method} ${r['accuracy lost (pp)']}`).join('; ')}`,
        answer: !learnt ? 'unclear: no method is above chance at any of these levels'
          : robust.length ? `yes: ${robust.map((r) => r.method).join(', ')}` : 'no',
      });
    }
  }
  if (analysis) {
    const leak = (m: string) => analysis.leakage.filter((r) => r.method === m);
    const byFold = (rs: LeakageRow[]) => new Map(rs.map((r) => [r.fold, 100 * r.accuracy]));
    const base = byFold(leak('baseline'));
    const methods = [...new Set(analysis.leakage.map((r) => r.method))].filter((m) => m !== 'pixels');
    // baseline − method probe accuracy per fold: > 0 when the method's features name the person less often
    const lessThanBase = (m: string): PairedTest => {
      const mine = byFold(leak(m));
      return pairedTest([...base].filter(([f]) => mine.has(f)).map(([f, acc]) => acc - mine.get(f)!));
    };
    const less = methods.filter((m) => m !== 'baseline' && lessThanBase(m).verdict === 'yes');
    const probeDim = analysis.leakage[0]?.probeDim;
    out.push({
      question: 'Do the disentangling methods\' expression features carry less identity than the baseline\'s '
        + `(probe accuracy in ${probeDim}-d, per fold, p < 0.05)?`,
      numbers: methods.filter((m) => m !== 'baseline').map((m) => `${leakLabel(m)} ${formatPaired(lessThanBase(m))}`).join('; '),
      answer: less.length ? `yes: ${less.map(leakLabel).join(', ')}` : 'no',
    });
    const aboveChance = (m: string) => pairedTest(leak(m).map((r) => 100 * (r.accuracy - r.chance)));
    const atChance = methods.filter((m) => aboveChance(m).verdict !== 'yes');
    out.push({
      question: 'Whose expression features are not shown to name the person above chance (probe − chance per fold, p ≥ 0.05)?',
      numbers: `${methods.map((m) => `${leakLabel(m)} ${formatPaired(aboveChance(m))}`).join('; ')} `
        + `(chance ${pm(leak('baseline').map((r) => 100 * r.chance))} %)`,
      answer: atChance.length ? atChance.map(leakLabel).join(', ') : 'none',
    });
  }
  if (faceApi && faceApi.mappable) {
    const se = Math.sqrt((faceApi.chanceRestricted * (1 - faceApi.chanceRestricted)) / faceApi.mappable);
    const above = faceApi.accuracyRestricted > faceApi.chanceRestricted + 2 * se;
    out.push({
      question: 'Does the off-the-shelf face-api model read our faces above chance?',
      numbers: `${(100 * faceApi.accuracyRestricted).toFixed(1)} % on ${faceApi.mappable} mappable samples `
        + `(chance ${(100 * faceApi.chanceRestricted).toFixed(1)} %, 2 s.e. ${(200 * se).toFixed(1)} pp)`,
      answer: above ? 'yes' : 'no',
    });
  }
  return out;
}
