/**
 * The runtime finder on this machine, in fresh processes (the Vulkan loader and VK_ICD_FILENAMES
 * count once per process): the packaged SwiftShader when forced, loaded from the cache and giving
 * a SwiftShader adapter, even where the system has its own; auto picking what this machine has; a
 * damaged cache found and redone. The child is src/node/webgpu-runtime.ts built with a few lines
 * that request an adapter from Dawn and list the Vulkan libraries the process loaded.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGED_NAME, SYSTEM_SWIFTSHADER_DIR } from '../../src/node/webgpu-runtime.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside node_modules/, so that the built script resolves `webgpu` and @sparticuz/chromium.
const OUT = join(ROOT, 'node_modules/.cache/webgpu-mlp-runtime-test');

interface Report {
  runtime?: { kind: string; summary: string; icd?: string; loader?: string };
  adapter?: string | null;
  vulkan?: string[];
  error?: string;
}

/** Runs the probe in a fresh process, with none of the Vulkan settings this test process was given. */
function probe(env: Record<string, string>): Promise<{ report: Report; stderr: string }> {
  const clean = { ...process.env };
  for (const key of [
    'VK_ICD_FILENAMES',
    'VK_DRIVER_FILES',
    'VK_ADD_DRIVER_FILES',
    'LD_LIBRARY_PATH',
    'WEBGPU_MLP_RUNTIME',
  ]) {
    delete clean[key];
  }
  return new Promise((done, fail) =>
    execFile(
      process.execPath,
      [join(OUT, 'probe.js')],
      { env: { ...clean, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        try {
          done({ report: JSON.parse(stdout) as Report, stderr });
        } catch {
          fail(new Error(`probe failed (${error?.message}):\n${stdout}\n${stderr}`));
        }
      },
    ),
  );
}

beforeAll(async () => {
  const entry = join(OUT, 'probe.ts');
  rmSync(OUT, { recursive: true, force: true });
  await build({
    configFile: false,
    logLevel: 'warn',
    root: ROOT,
    plugins: [
      {
        name: 'probe-entry',
        resolveId: (id) => (id === entry ? entry : undefined),
        load: (id) =>
          id === entry
            ? `import { readFileSync } from 'node:fs';
               import { findWebGpuRuntime } from ${JSON.stringify(join(ROOT, 'src/node/webgpu-runtime.ts'))};
               try {
                 const runtime = findWebGpuRuntime();
                 let adapter = null;
                 if (runtime.kind !== 'none') {
                   const { create } = await import('webgpu');
                   const a = await create([]).requestAdapter();
                   adapter = a && a.info.vendor + ' ' + a.info.architecture;
                 }
                 const vulkan = [...new Set(readFileSync('/proc/self/maps', 'utf8').split('\\n')
                   .map((l) => l.split(/\\s+/)[5] ?? '').filter((p) => /vulkan|swiftshader/.test(p)))];
                 console.log(JSON.stringify({ runtime, adapter, vulkan }));
               } catch (error) {
                 console.log(JSON.stringify({ error: error.message }));
               }
               process.exit(0);`
            : undefined,
      },
    ],
    build: {
      ssr: entry,
      outDir: OUT,
      emptyOutDir: false,
      target: 'node20',
      rollupOptions: { external: ['webgpu', /^node:/], output: { entryFileNames: 'probe.js' } },
    },
  });
}, 120_000);

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

describe('the WebGPU runtime on this machine', () => {
  it('WEBGPU_MLP_RUNTIME=packaged: the packaged loader and SwiftShader from the cache, and an adapter', async () => {
    const { report } = await probe({ WEBGPU_MLP_RUNTIME: 'packaged' });
    console.log(
      `packaged: ${report.runtime?.summary}; adapter: ${report.adapter}; loaded: ${report.vulkan?.join(', ')}`,
    );
    expect(report.error).toBeUndefined();
    expect(report.runtime?.kind).toBe('packaged');
    expect(report.adapter).toMatch(/swiftshader/);
    const dir = report.runtime?.loader?.replace(/\/libvulkan\.so\.1$/, '') ?? '?';
    expect(dir).toMatch(/sparticuz-chromium-[\d.]+\/swiftshader$/);
    // Only the packaged files: not the system's loader, not Debian's SwiftShader.
    expect(report.vulkan?.sort()).toEqual([join(dir, 'libvk_swiftshader.so'), join(dir, 'libvulkan.so.1')]);
  });

  it("auto: a GPU, else the system SwiftShader where Debian's chromium is installed, else the packaged one", async () => {
    const { report } = await probe({});
    console.log(`auto: ${report.runtime?.summary}; adapter: ${report.adapter}`);
    const gpu =
      existsSync('/dev/nvidia0') ||
      existsSync('/dev/dxg') ||
      (existsSync('/dev/dri') && readdirSync('/dev/dri').some((f) => f.startsWith('renderD')));
    const system = existsSync(join(SYSTEM_SWIFTSHADER_DIR, 'vk_swiftshader_icd.json'));
    expect(report.runtime?.kind).toBe(gpu ? 'gpu' : system ? 'system' : 'packaged');
    expect(report.adapter).not.toBeNull();
  });

  it('VK_ICD_FILENAMES naming a file that does not exist: said on stderr, and the adapter still comes from the next runtime', async () => {
    const gone = join(OUT, 'uninstalled/vk_icd.json');
    const { report, stderr } = await probe({ VK_ICD_FILENAMES: gone });
    expect(stderr).toMatch(
      new RegExp(`webgpu-mlp: VK_ICD_FILENAMES/VK_DRIVER_FILES names ${gone}, which does not exist .*: ignored`),
    );
    expect(report.runtime?.kind).not.toBe('user');
    expect(report.adapter).not.toBeNull();
  });

  it('a damaged cache is found, said, and unpacked again; the adapter still comes', async () => {
    const cache = mkdtempSync(join(OUT, 'cache-'));
    const first = await probe({ WEBGPU_MLP_RUNTIME: 'packaged', WEBGPU_MLP_CACHE_DIR: cache });
    expect(first.report.adapter).toMatch(/swiftshader/);
    expect(first.stderr).not.toMatch(/damaged/);
    const dir = first.report.runtime?.loader?.replace(/\/libvulkan\.so\.1$/, '') ?? '?';
    expect(dir.startsWith(cache)).toBe(true);
    truncateSync(join(dir, 'libvk_swiftshader.so'), 4096); // as a full disk or a killed copy would leave it
    writeFileSync(join(dir, 'vk_swiftshader_icd.json'), '{}');
    const again = await probe({ WEBGPU_MLP_RUNTIME: 'packaged', WEBGPU_MLP_CACHE_DIR: cache });
    expect(again.stderr).toMatch(
      new RegExp(
        `${dir} is damaged \\(libvk_swiftshader\\.so has 4096 bytes, expected \\d+\\); unpacking ${PACKAGED_NAME} [\\d.]+ swiftshader again`,
      ),
    );
    expect(again.report.adapter).toMatch(/swiftshader/);
  });
});
