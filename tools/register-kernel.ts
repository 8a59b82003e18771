/**
 * `npm run kernel:register`: adds the project's tslab kernel ("fer-tslab") to
 * the user's own Jupyter, pointing at this checkout's node_modules, so that
 * JupyterLab / VS Code / nbconvert can open the notebooks without a global
 * tslab install. Without registering, `JUPYTER_PATH=environment jupyter lab`
 * finds the same kernelspec (environment/kernels/fer-tslab).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PROJECT_ROOT } from '../lib/paths';
import { tslabBin } from './notebooks/kernel-client';

function main(): void {
  const spec = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'environment/kernels/fer-tslab/kernel.json'), 'utf8'));
  // an installed copy lives elsewhere, so {resource_dir} cannot reach node_modules: use absolute paths
  spec.argv = [process.execPath, tslabBin(), 'kernel', '--config-path', '{connection_file}'];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fer-tslab-'));
  const specDir = path.join(dir, 'fer-tslab');
  fs.mkdirSync(specDir);
  fs.writeFileSync(path.join(specDir, 'kernel.json'), JSON.stringify(spec, null, 1));
  try {
    execFileSync('jupyter', ['kernelspec', 'install', '--user', '--replace', '--name', 'fer-tslab', specDir], { stdio: 'inherit' });
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? "'jupyter' is not on PATH: install Jupyter first (pip install jupyterlab, or apt-get install jupyter-nbconvert)" : (e as Error).message);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`registered kernel 'fer-tslab' -> ${spec.argv.slice(0, 2).join(' ')}`);
}

try {
  main();
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
}
