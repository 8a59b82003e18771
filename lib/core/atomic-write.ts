/**
 * Writing a file so that readers never see it half-written: every store in
 * the project (manifests, caches, checkpoints, runs, plans, figures) writes
 * through this, which is why it sits below all of them.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { threadId } from 'worker_threads';

/**
 * Writes via a temp file in the same folder and renames it into place. The
 * temp name is unique per writer (process, thread, random suffix): fold
 * workers share a pid, and cluster tasks on other hosts may have the same
 * pid, while finishing the same run into the same file.
 */
export function writeFileAtomic(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${threadId}-${randomBytes(4).toString('hex')}`;
  try {
    fs.writeFileSync(tmp, content);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // nothing half-written stays behind
    throw e;
  }
}
