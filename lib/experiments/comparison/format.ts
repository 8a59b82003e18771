/** Number formats the comparison's tables and verdicts share (notebook 06). */
import { meanStd } from '../../analysis/stats';

/** mean ± sd */
export const pm = (xs: number[], digits = 1) => {
  const { mean, std } = meanStd(xs);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
};
export const signed = (x: number, digits = 1) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
