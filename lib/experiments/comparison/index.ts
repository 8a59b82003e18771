/**
 * Notebook 06's comparison, one module per concern: the plan and its runs,
 * the result rows, identity leakage, the face-api reference, the controlled
 * benchmark and the verdicts. Notebook 06 imports them all from here.
 * @see notebooks/06-comparison.ipynb
 */
export * from './plan';
export * from './rows';
export * from './leakage';
export * from './reference';
export * from './benchmark';
export * from './verdicts';
