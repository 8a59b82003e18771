/**
 * Imported first by tests that plan notebooks: a results store of their own,
 * set before the store module reads FER_RESULTS_DIR at import.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const FIXTURE_RESULTS = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-plan-results-'));
process.env.FER_RESULTS_DIR = FIXTURE_RESULTS;
