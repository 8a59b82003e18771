/**
 * Why Dawn found no WebGPU adapter on Linux, in words a user can act on: the
 * Vulkan loader (libvulkan.so.1) is missing, no Vulkan driver is installed,
 * or the installed drivers were rejected (Debian 12's Mesa 22.3 lavapipe
 * lacks features Dawn requires; Mesa 25 from bookworm-backports works).
 * Looks only at files; loads nothing.
 */
import * as fs from 'fs';
import * as path from 'path';

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib',
  '/lib/x86_64-linux-gnu', '/lib64', '/usr/local/lib'];
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'];

const exists = (p: string) => { try { return fs.statSync(p).isFile(); } catch { return false; } };
const listJson = (dir: string) => {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
};

/** Where to look; tests point these at a temporary folder. */
export interface VulkanSearchDirs { lib: string[]; icd: string[] }
const SYSTEM_DIRS: VulkanSearchDirs = { lib: LIB_DIRS, icd: ICD_DIRS };

/** The Vulkan driver manifests the loader would read (VK_DRIVER_FILES / VK_ICD_FILENAMES first, as the loader does). */
export function vulkanDriverFiles(env: NodeJS.ProcessEnv = process.env, dirs = SYSTEM_DIRS):
  { files: string[]; fromEnv?: string } {
  const override = env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : undefined;
  if (override) return { files: env[override]!.split(path.delimiter).filter(Boolean), fromEnv: override };
  const dataDirs = (env.XDG_DATA_DIRS ?? '').split(':').filter(Boolean).map((d) => path.join(d, 'vulkan/icd.d'));
  const files = [...new Set([...dirs.icd, ...dataDirs])].flatMap((d) => listJson(d).map((f) => path.join(d, f)));
  return { files };
}

/** One sentence: what is missing for Dawn to find a Vulkan adapter here. */
export function explainMissingVulkan(
  env: NodeJS.ProcessEnv = process.env, dirs = SYSTEM_DIRS, platform: string = process.platform,
): string {
  if (platform !== 'linux') {
    return 'Dawn found no WebGPU adapter (it uses Metal on macOS and D3D12 on Windows: check the GPU driver)';
  }
  const ldPath = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (![...ldPath, ...dirs.lib].some((d) => exists(path.join(d, 'libvulkan.so.1')))) {
    return 'Dawn found no WebGPU adapter: the Vulkan loader libvulkan.so.1 is not installed ' +
      '(Debian: apt-get install libvulkan1)';
  }
  const { files, fromEnv } = vulkanDriverFiles(env, dirs);
  const present = files.filter(exists);
  if (!present.length) {
    const named = fromEnv ? ` (${fromEnv} names ${files.join(', ') || 'nothing'})` : '';
    return `Dawn found no WebGPU adapter: no Vulkan driver is installed${named}; ` +
      'install your GPU\'s Vulkan driver, or for software rendering Mesa >= 25\'s lavapipe ' +
      '(Debian 12: .ci/install-vulkan, from bookworm-backports)';
  }
  const names = present.map((f) => path.basename(f, '.json')).join(', ');
  return `Dawn found no WebGPU adapter although Vulkan drivers are installed (${names}): ` +
    'they are too old or see no device ' +
    '(Debian 12\'s Mesa 22.3 lavapipe is rejected; Mesa >= 25 from bookworm-backports works: .ci/install-vulkan)';
}
