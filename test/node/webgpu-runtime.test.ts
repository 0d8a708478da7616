/**
 * The WebGPU runtime finder (src/node/webgpu-runtime.ts): the order (a GPU, the system's SwiftShader,
 * the packaged one, the system's drivers, none) on fake machines, what each forced runtime does and
 * says when it is missing, the environment it sets, and the browser choice. The real machine is
 * tested in webgpu-runtime.machine.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  applyRuntime,
  type BrowserProbe,
  findBrowser,
  type PackagedSource,
  type RuntimeProbe,
  type RuntimeRequest,
  resolveRuntime,
  runtimeRequest,
} from '../../src/node/webgpu-runtime.js';

const PACKAGED: PackagedSource = {
  version: '147.0.0',
  binDir: '/repo/node_modules/@sparticuz/chromium/bin',
  cacheDir: '/repo/node_modules/.cache/webgpu-mlp/sparticuz-chromium-147.0.0',
};
const UNPACKED = `${PACKAGED.cacheDir}/swiftshader`;

interface Machine {
  platform?: string;
  arch?: string;
  userDrivers?: string;
  gpuNode?: string;
  systemLoader?: boolean;
  systemSwiftShader?: boolean;
  packaged?: boolean;
  /** Paths whose loading fails. */
  brokenLoaders?: string[];
  /** Files that do not exist (everything else does). */
  missingFiles?: string[];
  /** Why unpacking the packaged SwiftShader fails, if it does. */
  unpackError?: string;
}

/** A fake machine that records what was asked of it, in order. */
function fake(m: Machine): RuntimeProbe & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    platform: m.platform ?? 'linux',
    arch: m.arch ?? 'x64',
    userDrivers: m.userDrivers,
    exists: (path) => !m.missingFiles?.includes(path),
    gpuNode: () => m.gpuNode,
    loadSystemLoader: () => {
      calls.push('load system loader');
      return m.systemLoader ?? false;
    },
    loadLoader: (path) => {
      calls.push(`load ${path}`);
      return m.brokenLoaders?.includes(path) ? 'file too short' : undefined;
    },
    systemSwiftShader: () => (m.systemSwiftShader ? '/usr/lib/chromium' : undefined),
    packaged: () =>
      m.packaged === false || (m.arch && m.arch !== 'x64')
        ? m.arch && m.arch !== 'x64'
          ? `the packaged runtime (@sparticuz/chromium) exists for Linux x64 only, and this is linux ${m.arch}.`
          : 'the packaged runtime is not installed: run `npm ci`.'
        : PACKAGED,
    unpackSwiftShader: (source) => {
      calls.push('unpack');
      if (m.unpackError) throw new Error(m.unpackError);
      return `${source.cacheDir}/swiftshader`;
    },
  };
}

function resolve(request: RuntimeRequest, m: Machine) {
  const probe = fake(m);
  return { runtime: resolveRuntime(request, probe), calls: probe.calls };
}

describe('resolveRuntime, auto: the first runtime that is there', () => {
  it('1. a GPU with the system loader: its drivers, the system SwiftShader added as the fallback', () => {
    const { runtime, calls } = resolve('auto', {
      gpuNode: '/dev/dri/renderD128',
      systemLoader: true,
      systemSwiftShader: true,
    });
    expect(runtime).toMatchObject({ kind: 'gpu', addIcd: '/usr/lib/chromium/vk_swiftshader_icd.json' });
    expect(runtime.icd).toBeUndefined();
    expect(runtime.summary).toMatch(/the GPU \(\/dev\/dri\/renderD128\).*SwiftShader as the fallback/);
    expect(calls).not.toContain('unpack');
  });

  it('1. a GPU without system SwiftShader or loader: the packaged loader, packaged SwiftShader as the fallback', () => {
    const { runtime } = resolve('auto', { gpuNode: '/dev/nvidia0' });
    expect(runtime).toMatchObject({
      kind: 'gpu',
      addIcd: `${UNPACKED}/vk_swiftshader_icd.json`,
      loader: `${UNPACKED}/libvulkan.so.1`,
    });
  });

  it("2. no GPU: the system's SwiftShader, with the system loader", () => {
    const { runtime, calls } = resolve('auto', { systemLoader: true, systemSwiftShader: true, packaged: true });
    expect(runtime).toMatchObject({ kind: 'system', icd: '/usr/lib/chromium/vk_swiftshader_icd.json' });
    expect(runtime.loader).toBeUndefined();
    expect(calls).not.toContain('unpack'); // the packaged one is not even unpacked
  });

  it("2. no GPU, no libvulkan1: the system's SwiftShader with chromium's own loader", () => {
    const { runtime } = resolve('auto', { systemSwiftShader: true });
    expect(runtime).toMatchObject({ kind: 'system', loader: '/usr/lib/chromium/libvulkan.so.1' });
  });

  it('3. nothing on the system: the packaged SwiftShader and its loader, unpacked once', () => {
    const { runtime, calls } = resolve('auto', {});
    expect(runtime).toMatchObject({
      kind: 'packaged',
      icd: `${UNPACKED}/vk_swiftshader_icd.json`,
      loader: `${UNPACKED}/libvulkan.so.1`,
    });
    expect(runtime.summary).toMatch(/the packaged SwiftShader \(@sparticuz\/chromium 147\.0\.0, unpacked in /);
    expect(calls.filter((c) => c === 'unpack')).toHaveLength(1);
  });

  it('3. the packaged SwiftShader with the system loader where there is one', () => {
    const { runtime } = resolve('auto', { systemLoader: true });
    expect(runtime).toMatchObject({ kind: 'packaged', icd: `${UNPACKED}/vk_swiftshader_icd.json` });
    expect(runtime.loader).toBeUndefined();
  });

  it("4. no SwiftShader anywhere but a loader: the system's drivers (e.g. lavapipe on arm64)", () => {
    const { runtime } = resolve('auto', { arch: 'arm64', systemLoader: true });
    expect(runtime.kind).toBe('drivers');
  });

  it('5. nothing: none, saying what was looked for and what to install', () => {
    const { runtime } = resolve('auto', { packaged: false });
    expect(runtime.kind).toBe('none');
    expect(runtime.problem).toMatch(/no GPU device node, no Vulkan loader, no SwiftShader in \/usr\/lib\/chromium/);
    expect(runtime.problem).toMatch(/npm ci/);
  });

  it('5. nothing on Linux arm64: says the package is x64 only and which apt packages to install', () => {
    const { runtime } = resolve('auto', { arch: 'arm64' });
    expect(runtime.kind).toBe('none');
    expect(runtime.problem).toMatch(/Linux x64 only, and this is linux arm64/);
    expect(runtime.problem).toMatch(/apt-get install mesa-vulkan-drivers libvulkan1/);
  });

  it('a packaged loader that does not load: none, with the reason', () => {
    const { runtime } = resolve('auto', { brokenLoaders: [`${UNPACKED}/libvulkan.so.1`] });
    expect(runtime.kind).toBe('none');
    expect(runtime.problem).toMatch(
      /the packaged SwiftShader is there, but .*libvulkan\.so\.1 did not load \(file too short\).*npm ci/,
    );
  });

  it('a packaged runtime that fails to unpack: a GPU still works; without one, none says why', () => {
    const failing = (m: Machine) => {
      const probe = fake(m);
      probe.unpackSwiftShader = () => {
        throw new Error('Cannot decompress swiftshader.tar.br (unexpected end of file): run `npm ci`');
      };
      return resolveRuntime('auto', probe);
    };
    expect(failing({ gpuNode: '/dev/nvidia0', systemLoader: true })).toMatchObject({ kind: 'gpu', addIcd: undefined });
    const none = failing({});
    expect(none.kind).toBe('none');
    expect(none.problem).toMatch(
      /the packaged SwiftShader could not be unpacked: Cannot decompress swiftshader\.tar\.br/,
    );
    expect(none.problem?.match(/could not be unpacked/g)).toHaveLength(1);
  });

  it('macOS and Windows: Dawn uses the GPU directly, nothing to find', () => {
    expect(resolve('auto', { platform: 'darwin' }).runtime).toMatchObject({ kind: 'native' });
    expect(resolve('auto', { platform: 'win32' }).runtime.summary).toMatch(/Direct3D 12/);
    expect(resolve('auto', { platform: 'darwin' }).calls).toEqual([]);
  });
});

describe('resolveRuntime, VK_ICD_FILENAMES already set', () => {
  it('names the packaged SwiftShader set by a parent process, and loads its loader', () => {
    const { runtime } = resolve('auto', { userDrivers: `${UNPACKED}/vk_swiftshader_icd.json` });
    expect(runtime).toMatchObject({ kind: 'packaged', loader: `${UNPACKED}/libvulkan.so.1` });
  });

  it("names the system's SwiftShader", () => {
    const { runtime } = resolve('auto', {
      userDrivers: '/usr/lib/chromium/vk_swiftshader_icd.json',
      systemSwiftShader: true,
      systemLoader: true,
    });
    expect(runtime.kind).toBe('system');
  });

  it("leaves the user's own driver choice alone", () => {
    const { runtime } = resolve('auto', {
      userDrivers: '/opt/my_icd.json',
      systemLoader: true,
      gpuNode: '/dev/nvidia0',
    });
    expect(runtime).toMatchObject({ kind: 'user' });
    expect(runtime.icd).toBeUndefined();
    expect(runtime.summary).toMatch(/\/opt\/my_icd\.json/);
  });
});

describe('resolveRuntime, VK_ICD_FILENAMES naming files that do not exist', () => {
  it('a driver JSON left over from an uninstalled package: said, ignored, and the next runtime found; applyRuntime removes it', () => {
    const { runtime } = resolve('auto', { userDrivers: '/opt/gone/icd.json', missingFiles: ['/opt/gone/icd.json'] });
    expect(runtime).toMatchObject({
      kind: 'packaged',
      icd: `${UNPACKED}/vk_swiftshader_icd.json`,
      dropUserDrivers: true,
    });
    expect(runtime.notice).toMatch(
      /^VK_ICD_FILENAMES\/VK_DRIVER_FILES names \/opt\/gone\/icd\.json, which does not exist \(a driver uninstalled since\?\): ignored, .*; using the packaged SwiftShader/,
    );
    const env: NodeJS.ProcessEnv = { VK_ICD_FILENAMES: '/opt/gone/icd.json', VK_DRIVER_FILES: '/opt/gone/icd.json' };
    applyRuntime(runtime, env);
    expect(env.VK_ICD_FILENAMES).toBe(`${UNPACKED}/vk_swiftshader_icd.json`);
    expect(env.VK_DRIVER_FILES).toBeUndefined();
    // Beside a GPU (no VK_ICD_FILENAMES of its own): the variable is removed, not left naming nothing.
    const gpu = resolve('auto', {
      userDrivers: '/opt/gone/icd.json',
      missingFiles: ['/opt/gone/icd.json'],
      gpuNode: '/dev/dri/renderD128',
      systemLoader: true,
    }).runtime;
    expect(gpu.kind).toBe('gpu');
    const gpuEnv: NodeJS.ProcessEnv = { VK_ICD_FILENAMES: '/opt/gone/icd.json' };
    applyRuntime(gpu, gpuEnv);
    expect(gpuEnv.VK_ICD_FILENAMES).toBeUndefined();
    // Nothing else either: none says both.
    const nothing = resolve('auto', {
      userDrivers: '/a.json:/b.json',
      missingFiles: ['/a.json', '/b.json'],
      packaged: false,
    });
    expect(nothing.runtime.kind).toBe('none');
    expect(nothing.runtime.problem).toMatch(
      /^VK_ICD_FILENAMES\/VK_DRIVER_FILES names \/a\.json, \/b\.json, which do not exist .*; and no GPU device node/,
    );
  });

  it("one of several named drivers missing: the user's choice kept, with a notice", () => {
    const { runtime } = resolve('auto', {
      userDrivers: '/opt/my_icd.json:/opt/gone.json',
      missingFiles: ['/opt/gone.json'],
      systemLoader: true,
    });
    expect(runtime.kind).toBe('user');
    expect(runtime.dropUserDrivers).toBeUndefined();
    expect(runtime.notice).toMatch(/names \/opt\/gone\.json, which does not exist .*: the Vulkan loader skips it/);
  });
});

describe('resolveRuntime, a cache this user cannot write', () => {
  const denied =
    "EACCES: permission denied, mkdir '/repo/node_modules/.cache/webgpu-mlp/sparticuz-chromium-147.0.0/swiftshader.lock'";
  it('auto: none, with advice about the permissions and WEBGPU_MLP_CACHE_DIR, not `npm ci`', () => {
    const { runtime } = resolve('auto', { unpackError: denied });
    expect(runtime.kind).toBe('none');
    expect(runtime.problem).toContain(denied);
    expect(runtime.problem).toMatch(
      /cannot be written by this user: make it writable .*or set WEBGPU_MLP_CACHE_DIR to a writable folder\.$/,
    );
    expect(runtime.problem).not.toMatch(/npm ci/);
  });
  it('packaged: the error says the same', () => {
    expect(() => resolve('packaged', { unpackError: denied })).toThrow(
      /EACCES: permission denied.*set WEBGPU_MLP_CACHE_DIR to a writable folder/,
    );
    // Another failure keeps its own words.
    expect(() => resolve('packaged', { unpackError: 'Cannot decompress x: Run `npm ci`' })).toThrow(
      /^Cannot decompress x: Run `npm ci`$/,
    );
  });
});

describe('resolveRuntime, forced by WEBGPU_MLP_RUNTIME', () => {
  it('packaged: the packaged loader is loaded before any other, even where the system has everything', () => {
    const { runtime, calls } = resolve('packaged', {
      gpuNode: '/dev/nvidia0',
      systemLoader: true,
      systemSwiftShader: true,
      userDrivers: '/usr/lib/chromium/vk_swiftshader_icd.json',
    });
    expect(runtime).toMatchObject({
      kind: 'packaged',
      icd: `${UNPACKED}/vk_swiftshader_icd.json`,
      loader: `${UNPACKED}/libvulkan.so.1`,
    });
    expect(calls).toEqual(['unpack', `load ${UNPACKED}/libvulkan.so.1`]);
  });

  it('packaged, where it is missing: an error saying why and what to do', () => {
    expect(() => resolve('packaged', { packaged: false })).toThrow(/WEBGPU_MLP_RUNTIME=packaged, but .*npm ci/);
    expect(() => resolve('packaged', { arch: 'arm64' })).toThrow(/Linux x64 only/);
    expect(() => resolve('packaged', { platform: 'darwin' })).toThrow(/Dawn uses the GPU directly/);
    expect(() => resolve('packaged', { brokenLoaders: [`${UNPACKED}/libvulkan.so.1`] })).toThrow(
      /cannot load .*libvulkan\.so\.1: file too short/,
    );
  });

  it("system: the system's SwiftShader, or an error naming the file and the package", () => {
    expect(resolve('system', { systemSwiftShader: true, systemLoader: true }).runtime.kind).toBe('system');
    expect(() => resolve('system', { packaged: true })).toThrow(
      /WEBGPU_MLP_RUNTIME=system, but \/usr\/lib\/chromium\/vk_swiftshader_icd\.json is missing: install Debian's chromium/,
    );
  });

  it("gpu: the system's drivers without SwiftShader, or an error when there is no loader", () => {
    const { runtime } = resolve('gpu', { systemLoader: true, systemSwiftShader: true });
    expect(runtime).toMatchObject({ kind: 'gpu' });
    expect(runtime.addIcd).toBeUndefined();
    expect(() => resolve('gpu', {})).toThrow(/WEBGPU_MLP_RUNTIME=gpu, but the system has no Vulkan loader/);
  });

  it('cpu: none, and nothing is loaded', () => {
    const { runtime, calls } = resolve('cpu', { systemLoader: true, systemSwiftShader: true });
    expect(runtime).toMatchObject({ kind: 'none', problem: 'WEBGPU_MLP_RUNTIME=cpu asks for no WebGPU runtime' });
    expect(calls).toEqual([]);
  });

  it('reads the request from the environment; an unknown one is an error listing the valid ones', () => {
    expect(runtimeRequest({})).toBe('auto');
    expect(runtimeRequest({ WEBGPU_MLP_RUNTIME: ' packaged ' })).toBe('packaged');
    expect(() => runtimeRequest({ WEBGPU_MLP_RUNTIME: 'swiftshader' })).toThrow(
      'WEBGPU_MLP_RUNTIME=swiftshader is not a runtime: expected auto, gpu, system, packaged, cpu (unset means auto).',
    );
  });
});

describe('applyRuntime', () => {
  it('sets the one driver, drops VK_DRIVER_FILES, and puts the loader first on LD_LIBRARY_PATH for children', () => {
    const env: NodeJS.ProcessEnv = { VK_DRIVER_FILES: '/x.json', LD_LIBRARY_PATH: `/a:${UNPACKED}:/b` };
    applyRuntime(
      {
        kind: 'packaged',
        summary: '',
        icd: `${UNPACKED}/vk_swiftshader_icd.json`,
        loader: `${UNPACKED}/libvulkan.so.1`,
      },
      env,
    );
    expect(env).toEqual({
      VK_ICD_FILENAMES: `${UNPACKED}/vk_swiftshader_icd.json`,
      LD_LIBRARY_PATH: `${UNPACKED}:/a:/b`,
      XDG_RUNTIME_DIR: '/tmp',
    });
  });

  it('WEBGPU_MLP_RUNTIME=gpu: no SwiftShader beside the GPU, not even the one the library would add', () => {
    const env: NodeJS.ProcessEnv = { VK_ADD_DRIVER_FILES: '/usr/lib/chromium/vk_swiftshader_icd.json' };
    applyRuntime({ kind: 'gpu', summary: '' }, env);
    expect(env.VK_ADD_DRIVER_FILES).toBe('');
    expect(env.VK_ICD_FILENAMES).toBeUndefined();
  });

  it('adds SwiftShader beside a GPU without replacing its drivers', () => {
    const env: NodeJS.ProcessEnv = { XDG_RUNTIME_DIR: '/run/user/1' };
    applyRuntime({ kind: 'gpu', summary: '', addIcd: '/usr/lib/chromium/vk_swiftshader_icd.json' }, env);
    expect(env).toEqual({
      VK_ADD_DRIVER_FILES: '/usr/lib/chromium/vk_swiftshader_icd.json',
      XDG_RUNTIME_DIR: '/run/user/1',
    });
  });
});

describe('findBrowser', () => {
  function browsers(system: boolean, packaged = true): BrowserProbe & { unpacked: number } {
    const probe = {
      unpacked: 0,
      platform: 'linux',
      arch: 'x64',
      systemChromium: () => (system ? { path: '/usr/bin/chromium', version: 'Chromium 156.0' } : undefined),
      packaged: () => (packaged ? PACKAGED : 'the packaged runtime is not installed: run `npm ci`.'),
      unpackBrowser: (source: PackagedSource) => {
        probe.unpacked++;
        return `${source.cacheDir}/browser`;
      },
    };
    return probe;
  }

  it("takes the system's Chromium when it runs, and does not unpack the packaged one", () => {
    const probe = browsers(true);
    expect(findBrowser('auto', probe)).toMatchObject({ kind: 'system', executablePath: '/usr/bin/chromium', args: [] });
    expect(probe.unpacked).toBe(0);
  });

  it('else the packaged one, with --in-process-gpu, its libraries and fonts', () => {
    const dir = `${PACKAGED.cacheDir}/browser`;
    const browser = findBrowser('auto', browsers(false));
    expect(browser).toMatchObject({ kind: 'packaged', executablePath: `${dir}/chromium`, args: ['--in-process-gpu'] });
    expect(browser.env.LD_LIBRARY_PATH?.split(':').slice(0, 2)).toEqual([`${dir}/lib`, dir]);
    expect(browser.env.FONTCONFIG_FILE).toBe(`${dir}/fonts.conf`);
  });

  it('packaged is forced by the request, system is required by it', () => {
    expect(findBrowser('packaged', browsers(true)).kind).toBe('packaged');
    expect(() => findBrowser('system', browsers(false))).toThrow(
      /WEBGPU_MLP_RUNTIME=system, but no system Chromium runs \(looked for \/usr\/bin\/chromium, \/usr\/bin\/chromium-browser\)/,
    );
  });

  it('neither: an error saying what is missing', () => {
    expect(() => findBrowser('auto', browsers(false, false))).toThrow(
      /No Chromium for the browser tests: none of \/usr\/bin\/chromium, \/usr\/bin\/chromium-browser runs, and the packaged runtime is not installed: run `npm ci`/,
    );
  });
});
