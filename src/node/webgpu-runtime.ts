/**
 * The WebGPU runtime of this project's Node tools and tests: `npm run train`, `npm run bench` and the
 * test setup call {@link findWebGpuRuntime} once, before Dawn's first `create()`; the browser tests
 * call {@link findBrowser}. Node only, and never part of the library (src/index.ts does not import it).
 *
 * Dawn (the `webgpu` package) runs WebGPU on Vulkan on Linux. A machine without a GPU needs a Vulkan
 * loader (`libvulkan.so.1`) and a software driver, SwiftShader. In this order, the first that is there:
 *   1. a GPU: a device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg) and the system's Vulkan
 *      drivers, with SwiftShader added as the fallback driver;
 *   2. the system's SwiftShader: Debian's `chromium` package (/usr/lib/chromium/vk_swiftshader_icd.json);
 *   3. the packaged SwiftShader: the npm package @sparticuz/chromium (a devDependency) ships it,
 *      Brotli-compressed; it is unpacked once into node_modules/.cache/webgpu-mlp/ (./unpack.ts);
 *   4. the system's Vulkan drivers, whatever they are (e.g. Mesa's lavapipe on arm64);
 *   5. none: `npm run train` falls back to the Float64 CPU reference, with a notice; GPU tests fail.
 * VK_ICD_FILENAMES (or VK_DRIVER_FILES) set by the user comes before all of them, unless every file it
 * names is missing: then it is said, removed, and the search goes on.
 * On macOS and Windows Dawn uses Metal or Direct3D 12 and nothing here is needed.
 *
 * How the packaged loader is used without LD_LIBRARY_PATH (which counts only at process start): Dawn
 * opens the loader with dlopen("libvulkan.so.1"), and glibc answers that from a library already
 * loaded under that soname. So the packaged `libvulkan.so.1` is loaded first, by its path
 * (`process.dlopen` with RTLD_NODELETE, as Node closes a library that is not an addon). The driver
 * is chosen with VK_ICD_FILENAMES, which the loader reads when Dawn creates its instance. Both are
 * also put in the environment (VK_ICD_FILENAMES, LD_LIBRARY_PATH), so child processes get the same.
 *
 * `WEBGPU_MLP_RUNTIME=auto|gpu|system|packaged|cpu` forces one (tests use `packaged` to check that
 * path on a machine that has the system's): a forced runtime that is missing, or an unknown value, is
 * an error (the CLI exits with 2); `WEBGPU_MLP_CACHE_DIR` moves the cache.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { unpackOnce } from './unpack.js';

export const RUNTIME_ENV = 'WEBGPU_MLP_RUNTIME';
export const CACHE_ENV = 'WEBGPU_MLP_CACHE_DIR';
export const RUNTIME_REQUESTS = ['auto', 'gpu', 'system', 'packaged', 'cpu'] as const;
/** What WEBGPU_MLP_RUNTIME asks for. */
export type RuntimeRequest = (typeof RUNTIME_REQUESTS)[number];

/** The npm package that carries the packaged SwiftShader and Chromium (linux x64). */
export const PACKAGED_NAME = '@sparticuz/chromium';
/** Debian's chromium package puts SwiftShader and its own Vulkan loader here. */
export const SYSTEM_SWIFTSHADER_DIR = '/usr/lib/chromium';
/** Where a system Chromium is looked for. */
export const SYSTEM_CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'] as const;
/**
 * Flags the packaged Chromium needs beyond the ones every launch gets (--no-sandbox,
 * --disable-gpu-sandbox, --enable-unsafe-webgpu): the GPU runs as a thread of the browser process,
 * as @sparticuz/chromium is built and tested to run.
 */
export const PACKAGED_BROWSER_ARGS: readonly string[] = ['--in-process-gpu'];

const LOADER = 'libvulkan.so.1';
const ICD_JSON = 'vk_swiftshader_icd.json';
const SWIFTSHADER_FILES = [LOADER, 'libvk_swiftshader.so', ICD_JSON];

/** Where WebGPU runs. */
export type RuntimeKind = 'native' | 'user' | 'gpu' | 'system' | 'packaged' | 'drivers' | 'none';

export interface WebGpuRuntime {
  kind: RuntimeKind;
  /** One line for progress headers and reports, e.g. `packaged SwiftShader (@sparticuz/chromium 147.0.0)`. */
  summary: string;
  /** VK_ICD_FILENAMES: the only Vulkan driver. */
  icd?: string;
  /** VK_ADD_DRIVER_FILES: a driver added to the system's (SwiftShader beside a GPU). */
  addIcd?: string;
  /** The Vulkan loader loaded by path; undefined when the system's is used (or none). */
  loader?: string;
  /** For `none`: what was looked for, and what to install. */
  problem?: string;
  /**
   * What was wrong on the way and gone past (VK_ICD_FILENAMES naming files that do not exist), for a
   * notice; findWebGpuRuntime prints it to stderr.
   */
  notice?: string;
  /** The user's VK_ICD_FILENAMES/VK_DRIVER_FILES were ignored: applyRuntime removes them. */
  dropUserDrivers?: boolean;
}

/** The packaged runtime as installed: @sparticuz/chromium's bin/ folder. */
export interface PackagedSource {
  version: string;
  binDir: string;
  /** Where it is unpacked: `<cache>/sparticuz-chromium-<version>/`. */
  cacheDir: string;
}

/** What {@link resolveRuntime} asks of the machine. The real one is {@link machineProbe}; tests pass fakes. */
export interface RuntimeProbe {
  platform: string;
  arch: string;
  /** VK_ICD_FILENAMES or VK_DRIVER_FILES as found in the environment. */
  userDrivers: string | undefined;
  /** Whether a file or folder exists (a driver JSON that VK_ICD_FILENAMES names). */
  exists(path: string): boolean;
  /** A GPU device node, if there is one. */
  gpuNode(): string | undefined;
  /** Loads the system's libvulkan.so.1 by name (it stays loaded); false when there is none. */
  loadSystemLoader(): boolean;
  /** Loads a Vulkan loader by path (it stays loaded); undefined, or why it failed. */
  loadLoader(path: string): string | undefined;
  /** Debian's SwiftShader folder when it is complete (the ICD JSON and the library it names). */
  systemSwiftShader(): string | undefined;
  /** The packaged runtime, or why there is none. */
  packaged(): PackagedSource | string;
  /** Unpacks the packaged SwiftShader (once, into the cache) and returns its folder. */
  unpackSwiftShader(source: PackagedSource): string;
}

/** Reads WEBGPU_MLP_RUNTIME; an unknown value is an error. */
export function runtimeRequest(env: NodeJS.ProcessEnv = process.env): RuntimeRequest {
  const value = env[RUNTIME_ENV]?.trim() || 'auto';
  if (!(RUNTIME_REQUESTS as readonly string[]).includes(value)) {
    throw new Error(
      `${RUNTIME_ENV}=${value} is not a runtime: expected ${RUNTIME_REQUESTS.join(', ')} (unset means auto).`,
    );
  }
  return value as RuntimeRequest;
}

/**
 * Decides where WebGPU runs, loading a Vulkan loader where one is needed (a side effect through
 * `probe`). Throws when a forced runtime is missing; returns kind `none` when auto finds nothing.
 */
export function resolveRuntime(request: RuntimeRequest, probe: RuntimeProbe): WebGpuRuntime {
  if (request === 'cpu') {
    return none(`${RUNTIME_ENV}=cpu asks for no WebGPU runtime`);
  }
  if (probe.platform !== 'linux') {
    if (request === 'system' || request === 'packaged') {
      throw new Error(
        `${RUNTIME_ENV}=${request}: SwiftShader runtimes are for Linux; on ${probe.platform} Dawn uses the GPU directly. Unset ${RUNTIME_ENV}.`,
      );
    }
    const api = probe.platform === 'darwin' ? 'Metal' : probe.platform === 'win32' ? 'Direct3D 12' : 'the system';
    return { kind: 'native', summary: `the GPU through ${api} (Dawn)` };
  }
  if (request === 'packaged') {
    // Forced: the packaged loader too, loaded before anything else can load the system's.
    const dir = unpackedSwiftShader(probe, true) as string;
    const error = probe.loadLoader(join(dir, LOADER));
    if (error) throw new Error(`${RUNTIME_ENV}=packaged: cannot load ${join(dir, LOADER)}: ${error}`);
    return { kind: 'packaged', summary: packagedSummary(probe), icd: join(dir, ICD_JSON), loader: join(dir, LOADER) };
  }
  if (request === 'system') {
    const dir = probe.systemSwiftShader();
    if (!dir) {
      throw new Error(
        `${RUNTIME_ENV}=system, but ${join(SYSTEM_SWIFTSHADER_DIR, ICD_JSON)} is missing: install Debian's chromium (\`apt-get install chromium\`), or use ${RUNTIME_ENV}=packaged.`,
      );
    }
    return {
      kind: 'system',
      summary: `the system's SwiftShader (${dir})`,
      icd: join(dir, ICD_JSON),
      ...loader(probe, dir),
    };
  }
  if (request === 'gpu') {
    const got = loader(probe);
    if (got.missing) throw new Error(`${RUNTIME_ENV}=gpu, but ${got.missing}`);
    return { kind: 'gpu', summary: `the system's Vulkan drivers${gpuNodeNote(probe)}`, ...got };
  }

  // auto
  if (!probe.userDrivers) return autoRuntime(probe);
  const listed = probe.userDrivers.split(':').filter((p) => p !== '');
  const missing = listed.filter((p) => !probe.exists(p));
  const names = `VK_ICD_FILENAMES/VK_DRIVER_FILES names ${missing.join(', ')}, which ${missing.length > 1 ? 'do' : 'does'} not exist (a driver uninstalled since?)`;
  if (missing.length < listed.length) {
    const runtime = userRuntime(probe, probe.userDrivers);
    return missing.length ? { ...runtime, notice: `${names}: the Vulkan loader skips it` } : runtime;
  }
  // Every driver named is missing: Dawn would find none. Say so, and look for a runtime as if unset.
  const found = autoRuntime(probe);
  const notice = `${names}: ignored, and the variable removed for this process`;
  return found.kind === 'none'
    ? { ...found, problem: `${notice}; and ${found.problem}`, notice, dropUserDrivers: true }
    : { ...found, notice: `${notice}; using ${found.summary} instead`, dropUserDrivers: true };
}

/** auto without drivers named by the user: the first runtime that is there (see the module comment). */
function autoRuntime(probe: RuntimeProbe): WebGpuRuntime {
  const misses: Miss[] = [];
  const node = probe.gpuNode();
  if (node) {
    const systemDir = probe.systemSwiftShader();
    const fallbackDir = systemDir ?? unpackedSwiftShader(probe, false, misses);
    const got = loader(probe, fallbackDir);
    if (!got.missing) {
      return {
        kind: 'gpu',
        summary: `the GPU (${node}) through the system's Vulkan drivers${fallbackDir ? `, SwiftShader as the fallback` : ''}`,
        addIcd: fallbackDir && join(fallbackDir, ICD_JSON),
        loader: got.loader,
      };
    }
  }
  const systemDir = probe.systemSwiftShader();
  if (systemDir) {
    const got = loader(probe, systemDir);
    if (!got.missing) {
      return {
        kind: 'system',
        summary: `the system's SwiftShader (${systemDir})`,
        icd: join(systemDir, ICD_JSON),
        loader: got.loader,
      };
    }
  }
  const packagedDir = unpackedSwiftShader(probe, false, misses);
  if (packagedDir) {
    const got = loader(probe, packagedDir);
    if (got.missing) misses.push({ what: `the packaged SwiftShader is there, but ${got.missing}` });
    else {
      return {
        kind: 'packaged',
        summary: packagedSummary(probe),
        icd: join(packagedDir, ICD_JSON),
        loader: got.loader,
      };
    }
  }
  if (probe.loadSystemLoader()) {
    return { kind: 'drivers', summary: `the system's Vulkan drivers (no GPU device node, no SwiftShader found)` };
  }
  return none(noRuntimeProblem(probe, misses));
}

/** Sets the environment a runtime needs: VK_ICD_FILENAMES (or VK_ADD_DRIVER_FILES), and LD_LIBRARY_PATH for child processes. */
export function applyRuntime(runtime: WebGpuRuntime, env: NodeJS.ProcessEnv = process.env): void {
  if (runtime.dropUserDrivers) {
    delete env.VK_ICD_FILENAMES;
    delete env.VK_DRIVER_FILES;
  }
  if (runtime.icd) {
    env.VK_ICD_FILENAMES = runtime.icd;
    delete env.VK_DRIVER_FILES; // newer loaders prefer it over VK_ICD_FILENAMES
  }
  if (runtime.addIcd) env.VK_ADD_DRIVER_FILES = runtime.addIcd;
  // Empty rather than unset: the library's own hook (src/gpu/device.ts) adds Debian's SwiftShader
  // beside a GPU only when nobody set it.
  if (runtime.kind === 'gpu' && !runtime.addIcd) env.VK_ADD_DRIVER_FILES = '';
  if (runtime.loader) {
    const dir = dirname(runtime.loader);
    const paths = (env.LD_LIBRARY_PATH ?? '').split(':').filter((p) => p && p !== dir);
    env.LD_LIBRARY_PATH = [dir, ...paths].join(':');
  }
  env.XDG_RUNTIME_DIR ??= '/tmp'; // silences Dawn's "XDG_RUNTIME_DIR is invalid" on headless machines
}

let found: WebGpuRuntime | undefined;

/**
 * Finds the runtime (see the module comment), sets the environment and loads the loader. Call it
 * before Dawn's first `create()`. Once per process: later calls return the first answer.
 * Throws when WEBGPU_MLP_RUNTIME is invalid or forces a runtime that is missing.
 */
export function findWebGpuRuntime(): WebGpuRuntime {
  if (found) return found;
  const runtime = resolveRuntime(runtimeRequest(), machineProbe());
  applyRuntime(runtime);
  if (runtime.notice) console.error(`webgpu-mlp: ${runtime.notice}`);
  found = runtime;
  return runtime;
}

/** A browser for the tests: its path, the flags and environment it needs. */
export interface BrowserRuntime {
  kind: 'system' | 'packaged';
  executablePath: string;
  /** Flags beyond the common ones (see {@link PACKAGED_BROWSER_ARGS}). */
  args: string[];
  env: Record<string, string>;
  summary: string;
}

/** What {@link findBrowser} asks of the machine. */
export interface BrowserProbe {
  platform: string;
  arch: string;
  /** A system Chromium that runs (`--version` answers), or undefined. */
  systemChromium(): { path: string; version: string } | undefined;
  packaged(): PackagedSource | string;
  /** Unpacks the packaged Chromium (once) and returns its folder. */
  unpackBrowser(source: PackagedSource): string;
}

/**
 * A Chromium for the browser tests: the system's if it runs (`auto`, `system`), else the packaged
 * one (`packaged` forces it). `gpu` and `cpu` mean `auto` here. Throws with what to install when
 * there is none.
 */
export function findBrowser(
  request: RuntimeRequest = runtimeRequest(),
  probe: BrowserProbe = browserProbe(),
): BrowserRuntime {
  if (request !== 'packaged') {
    const system = probe.systemChromium();
    if (system) {
      return {
        kind: 'system',
        executablePath: system.path,
        args: [],
        env: {},
        summary: `the system's ${system.version} (${system.path})`,
      };
    }
    if (request === 'system') {
      throw new Error(
        `${RUNTIME_ENV}=system, but no system Chromium runs (looked for ${SYSTEM_CHROMIUM.join(', ')}): install it (\`apt-get install chromium\`), or use ${RUNTIME_ENV}=packaged.`,
      );
    }
  }
  const source = probe.packaged();
  if (typeof source === 'string') {
    throw new Error(`No Chromium for the browser tests: none of ${SYSTEM_CHROMIUM.join(', ')} runs, and ${source}`);
  }
  const dir = probe.unpackBrowser(source);
  return {
    kind: 'packaged',
    executablePath: join(dir, 'chromium'),
    args: [...PACKAGED_BROWSER_ARGS],
    env: {
      // The NSS libraries it links to (lib/) and SwiftShader beside it.
      LD_LIBRARY_PATH: [join(dir, 'lib'), dir, process.env.LD_LIBRARY_PATH].filter((p) => p).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
    summary: `the packaged Chromium (${PACKAGED_NAME} ${source.version}, ${dir})`,
  };
}

// ---- the machine ----

/** The real machine, for {@link resolveRuntime}. */
export function machineProbe(env: NodeJS.ProcessEnv = process.env): RuntimeProbe {
  let packaged: PackagedSource | string | undefined;
  return {
    platform: process.platform,
    arch: process.arch,
    userDrivers: env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES || undefined,
    exists: existsSync,
    gpuNode,
    loadSystemLoader: () => loadLibrary(LOADER) === undefined,
    loadLoader: (path) => loadLibrary(path),
    systemSwiftShader: () => (completeIcd(SYSTEM_SWIFTSHADER_DIR) ? SYSTEM_SWIFTSHADER_DIR : undefined),
    packaged: () => {
      packaged ??= packagedSource(env);
      return packaged;
    },
    unpackSwiftShader: (source) =>
      unpackOnce({
        dir: join(source.cacheDir, 'swiftshader'),
        label: `${PACKAGED_NAME} ${source.version} swiftshader`,
        sources: [{ file: join(source.binDir, 'swiftshader.tar.br'), kind: 'tar', into: '', only: SWIFTSHADER_FILES }],
      }),
  };
}

/** The real machine, for {@link findBrowser}. */
export function browserProbe(env: NodeJS.ProcessEnv = process.env): BrowserProbe {
  return {
    platform: process.platform,
    arch: process.arch,
    systemChromium: () => {
      for (const path of SYSTEM_CHROMIUM) {
        if (!existsSync(path)) continue;
        try {
          const version = execFileSync(path, ['--version'], {
            encoding: 'utf8',
            timeout: 30_000,
            stdio: 'pipe',
          }).trim();
          if (/chrom/i.test(version)) return { path, version };
        } catch {}
      }
      return undefined;
    },
    packaged: () => packagedSource(env),
    unpackBrowser: (source) => {
      const dir = join(source.cacheDir, 'browser');
      return unpackOnce({
        dir,
        label: `${PACKAGED_NAME} ${source.version} browser`,
        sources: [
          { file: join(source.binDir, 'chromium.br'), kind: 'file', into: 'chromium', mode: 0o755 },
          { file: join(source.binDir, 'swiftshader.tar.br'), kind: 'tar', into: '' },
          { file: join(source.binDir, 'al2023.tar.br'), kind: 'tar', into: '' },
          { file: join(source.binDir, 'fonts.tar.br'), kind: 'tar', into: 'fonts' },
        ],
        extra: {
          // The system's fonts where there are some, and the package's Open Sans.
          'fonts.conf': [
            '<?xml version="1.0"?>',
            '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
            '<fontconfig>',
            '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
            '  <dir>{dir}/fonts</dir>',
            '  <cachedir>{dir}.fonts-cache</cachedir>',
            '</fontconfig>',
            '',
          ].join('\n'),
        },
      });
    },
  };
}

/** The installed @sparticuz/chromium, or why it cannot serve here. */
export function packagedSource(env: NodeJS.ProcessEnv = process.env): PackagedSource | string {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `the packaged runtime (${PACKAGED_NAME}) exists for Linux x64 only, and this is ${process.platform} ${process.arch}.`;
  }
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(PACKAGED_NAME);
  } catch {
    return `the packaged runtime is not installed: ${PACKAGED_NAME} is missing from node_modules. Run \`npm install ${PACKAGED_NAME}\` (in the webgpu-mlp repository, where it is a devDependency: \`npm ci\`).`;
  }
  // The package root: the nearest folder above its entry point with its package.json.
  let root = dirname(entry);
  let version: string | undefined;
  for (; dirname(root) !== root; root = dirname(root)) {
    try {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PACKAGED_NAME) {
        version = pkg.version;
        break;
      }
    } catch {}
  }
  const binDir = join(root, 'bin');
  if (!version || !existsSync(join(binDir, 'swiftshader.tar.br'))) {
    return `${PACKAGED_NAME} is installed (${entry}) but not as expected (no package.json with a version, or no bin/swiftshader.tar.br): run \`npm ci\` to install it again.`;
  }
  // node_modules/@sparticuz/chromium → node_modules/.cache/webgpu-mlp
  const cache = env[CACHE_ENV] || join(root, '..', '..', '.cache', 'webgpu-mlp');
  return { version, binDir, cacheDir: join(cache, `sparticuz-chromium-${version}`) };
}

/** A short form of a cache path for messages: relative to the working folder when inside it. */
export function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

// ---- helpers ----

function none(problem: string): WebGpuRuntime {
  return { kind: 'none', summary: 'no WebGPU runtime', problem };
}

function packagedSummary(probe: RuntimeProbe): string {
  const source = probe.packaged() as PackagedSource;
  return `the packaged SwiftShader (${PACKAGED_NAME} ${source.version}, unpacked in ${shortPath(join(source.cacheDir, 'swiftshader'))})`;
}

/** Why a runtime was not used, and what fixes it when that is not reinstalling the package. */
interface Miss {
  what: string;
  advice?: string;
}

/** Errors of writing where this user may not (a read-only or foreign cache): `npm ci` does not fix them. */
const PERMISSION = /\b(EACCES|EPERM|EROFS)\b/;

/** What to do about a cache that cannot be written. */
function permissionAdvice(source: PackagedSource): string {
  return `The cache ${shortPath(source.cacheDir)} cannot be written by this user: make it writable (or remove it, to be made again), or set ${CACHE_ENV} to a writable folder.`;
}

/**
 * The unpacked packaged SwiftShader folder. When it cannot be had: thrown when `required`, else
 * undefined, with the reason added to `misses` when unpacking failed.
 */
function unpackedSwiftShader(probe: RuntimeProbe, required: boolean, misses?: Miss[]): string | undefined {
  const source = probe.packaged();
  if (typeof source === 'string') {
    if (required) throw new Error(`${RUNTIME_ENV}=packaged, but ${source}`);
    return undefined;
  }
  try {
    return probe.unpackSwiftShader(source);
  } catch (error) {
    const message = (error as Error).message;
    const advice = PERMISSION.test(message) ? permissionAdvice(source) : undefined;
    if (required) throw new Error(advice ? `${message}. ${advice}` : message, { cause: error });
    misses?.push({ what: `the packaged SwiftShader could not be unpacked: ${message}`, advice });
    return undefined;
  }
}

/**
 * A Vulkan loader: the system's, else the one in `dir` (Debian's chromium and the package each ship
 * one). `missing` says why there is none.
 */
function loader(probe: RuntimeProbe, dir?: string): { loader?: string; missing?: string } {
  if (probe.loadSystemLoader()) return {};
  if (!dir)
    return { missing: `the system has no Vulkan loader (${LOADER}): install it (\`apt-get install libvulkan1\`).` };
  const error = probe.loadLoader(join(dir, LOADER));
  return error
    ? { missing: `the system has no Vulkan loader and ${join(dir, LOADER)} did not load (${error})` }
    : { loader: join(dir, LOADER) };
}

function userRuntime(probe: RuntimeProbe, drivers: string): WebGpuRuntime {
  // Set by this module in a parent process (inherited), or by the user.
  const systemDir = probe.systemSwiftShader();
  const source = probe.packaged();
  if (systemDir && drivers === join(systemDir, ICD_JSON)) {
    return {
      kind: 'system',
      summary: `the system's SwiftShader (${systemDir})`,
      icd: drivers,
      ...loader(probe, systemDir),
    };
  }
  if (typeof source !== 'string' && drivers === join(source.cacheDir, 'swiftshader', ICD_JSON)) {
    const dir = probe.unpackSwiftShader(source);
    return { kind: 'packaged', summary: packagedSummary(probe), icd: drivers, ...loader(probe, dir) };
  }
  const got = loader(probe, systemDir ?? (typeof source === 'string' ? undefined : probe.unpackSwiftShader(source)));
  return {
    kind: 'user',
    summary: `the Vulkan driver(s) in VK_ICD_FILENAMES/VK_DRIVER_FILES (${drivers})`,
    loader: got.loader,
  };
}

function gpuNodeNote(probe: RuntimeProbe): string {
  const node = probe.gpuNode();
  return node ? ` (GPU: ${node})` : ' (no GPU device node found)';
}

/** What to install when nothing was found, for this platform. */
function noRuntimeProblem(probe: RuntimeProbe, misses: Miss[]): string {
  const packaged = probe.packaged();
  const looked = `no GPU device node, no Vulkan loader, no SwiftShader in ${SYSTEM_SWIFTSHADER_DIR}`;
  if (typeof packaged === 'string' && probe.arch !== 'x64') {
    return `${looked}, and ${packaged} Install a software Vulkan driver: \`apt-get install mesa-vulkan-drivers libvulkan1\` (lavapipe) or \`apt-get install chromium libvulkan1\` (SwiftShader), or set VK_ICD_FILENAMES to a driver's JSON.`;
  }
  if (typeof packaged === 'string') return `${looked}, and ${packaged}`;
  const what = [...new Set(misses.map((m) => m.what))].join('; ');
  const advice = [...new Set(misses.map((m) => m.advice ?? 'Run `npm ci` to install it again.'))].join(' ');
  return `${looked}, and ${what}. ${advice}`;
}

function gpuNode(): string | undefined {
  try {
    const render = readdirSync('/dev/dri').find((f) => f.startsWith('renderD'));
    if (render) return `/dev/dri/${render}`;
  } catch {}
  for (const path of ['/dev/nvidia0', '/dev/dxg']) if (existsSync(path)) return path;
  return undefined;
}

/** Both the ICD JSON and the driver library it names exist (and are not empty). */
function completeIcd(dir: string): boolean {
  try {
    const icd = JSON.parse(readFileSync(join(dir, ICD_JSON), 'utf8')) as { ICD?: { library_path?: string } };
    const lib = icd.ICD?.library_path;
    return typeof lib === 'string' && statSync(join(dir, lib)).size > 0;
  } catch {
    return false;
  }
}

/** glibc's RTLD_NODELETE: keeps the library loaded when Node closes it again (it is not an addon). */
const RTLD_NODELETE = 0x1000;

/** Loads a shared library into this process for good; undefined, or why it failed. */
function loadLibrary(path: string): string | undefined {
  try {
    process.dlopen({ exports: {} }, path, constants.dlopen.RTLD_NOW | RTLD_NODELETE);
  } catch (error) {
    const message = (error as Error).message;
    // Loaded, then found not to be a Node addon: it stays, thanks to RTLD_NODELETE.
    if (/did not self-register|napi_register_module/.test(message)) return undefined;
    return message;
  }
  return undefined;
}
