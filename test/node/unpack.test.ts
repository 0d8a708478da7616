/**
 * Unpacking once into the cache (src/node/unpack.ts), on small archives made here: the files and
 * their modes, reuse, a damaged or partial folder found and redone (with a notice saying what was
 * wrong), leftovers and locks of dead processes cleared, a clear error for a damaged package, and
 * several processes unpacking the same folder at once.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync } from 'node:zlib';
import { build } from 'vite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MARKER, readTar, type UnpackSpec, unpackOnce, verifyUnpacked } from '../../src/node/unpack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A ustar archive of regular files (type '0'), or of the given types. */
function tar(entries: { path: string; data?: Uint8Array | string; mode?: number; type?: string }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? new TextEncoder().encode(e.data) : (e.data ?? new Uint8Array());
    const header = new Uint8Array(512);
    const put = (at: number, text: string) => header.set(new TextEncoder().encode(text), at);
    put(0, e.path);
    put(100, `${(e.mode ?? 0o644).toString(8).padStart(7, '0')}\0`);
    put(108, '0000000\0');
    put(116, '0000000\0');
    put(124, `${data.length.toString(8).padStart(11, '0')}\0`);
    put(136, '00000000000\0');
    put(148, '        ');
    put(156, e.type ?? '0');
    put(257, 'ustar\u000000');
    const sum = header.reduce((a, b) => a + b, 0);
    put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
    blocks.push(header, data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

let work: string;
let spec: UnpackSpec;
let notices: string[];

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'webgpu-mlp-unpack-'));
  writeFileSync(
    join(work, 'parts.tar.br'),
    brotliCompressSync(
      tar([
        { path: 'lib/libfake.so', data: 'ELF'.repeat(1000), mode: 0o755 },
        { path: 'fake_icd.json', data: '{"ICD":{"library_path":"./lib/libfake.so"}}' },
        { path: 'unwanted.txt', data: 'not asked for' },
      ]),
    ),
  );
  writeFileSync(join(work, 'tool.br'), brotliCompressSync(new TextEncoder().encode('#!/bin/sh\necho tool\n')));
  notices = [];
  spec = {
    dir: join(work, 'cache', 'pkg-1.0.0', 'part'),
    label: 'pkg 1.0.0 part',
    sources: [
      { file: join(work, 'parts.tar.br'), kind: 'tar', into: '', only: ['lib/libfake.so', 'fake_icd.json'] },
      { file: join(work, 'tool.br'), kind: 'file', into: 'bin/tool', mode: 0o755 },
    ],
    extra: { 'where.conf': 'dir={dir}\n' },
    log: (line) => notices.push(line),
  };
});

afterEach(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('unpackOnce', () => {
  it('unpacks what was asked for, with the modes, and a marker of sizes and hashes', () => {
    expect(unpackOnce(spec)).toBe(spec.dir);
    expect(readdirSync(spec.dir).sort()).toEqual([MARKER, 'bin', 'fake_icd.json', 'lib', 'where.conf']);
    expect(statSync(join(spec.dir, 'lib/libfake.so')).mode & 0o777).toBe(0o755);
    expect(statSync(join(spec.dir, 'bin/tool')).mode & 0o777).toBe(0o755);
    expect(statSync(join(spec.dir, 'fake_icd.json')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(spec.dir, 'where.conf'), 'utf8')).toBe(`dir=${spec.dir}\n`);
    const marker = JSON.parse(readFileSync(join(spec.dir, MARKER), 'utf8'));
    expect(marker.label).toBe('pkg 1.0.0 part');
    expect(marker.files.map((f: { path: string }) => f.path).sort()).toEqual([
      'bin/tool',
      'fake_icd.json',
      'lib/libfake.so',
      'where.conf',
    ]);
    expect(marker.files.find((f: { path: string }) => f.path === 'lib/libfake.so')).toMatchObject({
      size: 3000,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(notices).toEqual([]);
    // nothing left beside it
    expect(readdirSync(join(work, 'cache', 'pkg-1.0.0'))).toEqual(['part']);
  });

  it('reuses a complete folder without reading the package again', () => {
    unpackOnce(spec);
    rmSync(join(work, 'parts.tar.br'));
    expect(unpackOnce(spec)).toBe(spec.dir);
    expect(notices).toEqual([]);
  });

  it('redoes a folder with a truncated file, saying which', () => {
    unpackOnce(spec);
    truncateSync(join(spec.dir, 'lib/libfake.so'), 100);
    expect(verifyUnpacked(spec.dir, spec.label)).toBe('lib/libfake.so has 100 bytes, expected 3000');
    unpackOnce(spec);
    expect(notices).toEqual([
      `webgpu-mlp: ${spec.dir} is damaged (lib/libfake.so has 100 bytes, expected 3000); unpacking pkg 1.0.0 part again`,
    ]);
    expect(statSync(join(spec.dir, 'lib/libfake.so')).size).toBe(3000);
    expect(verifyUnpacked(spec.dir, spec.label)).toBeUndefined();
  });

  it('redoes a folder whose file has the right size but other bytes', () => {
    unpackOnce(spec);
    writeFileSync(join(spec.dir, 'lib/libfake.so'), 'FLE'.repeat(1000));
    unpackOnce(spec);
    expect(notices[0]).toMatch(/lib\/libfake\.so has the right size but not the right content \(SHA-256\)/);
    expect(readFileSync(join(spec.dir, 'lib/libfake.so'), 'utf8')).toBe('ELF'.repeat(1000));
  });

  it('redoes a partial folder (no marker), a missing file, or another version', () => {
    mkdirSync(spec.dir, { recursive: true });
    writeFileSync(join(spec.dir, 'fake_icd.json'), '{');
    unpackOnce(spec);
    expect(notices[0]).toMatch(/no \.complete\.json: an unpack that did not finish/);
    rmSync(join(spec.dir, 'bin/tool'));
    unpackOnce(spec);
    expect(notices[1]).toMatch(/bin\/tool is missing/);
    expect(verifyUnpacked(spec.dir, 'pkg 2.0.0 part')).toBe(
      '.complete.json is for "pkg 1.0.0 part", expected "pkg 2.0.0 part"',
    );
  });

  it('clears what a process that died while unpacking left: its temporary folder and its lock', () => {
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
    const parent = join(work, 'cache', 'pkg-1.0.0');
    mkdirSync(join(parent, `part.tmp-${dead}-abcd1234`, 'lib'), { recursive: true });
    mkdirSync(join(parent, 'part.lock'));
    writeFileSync(join(parent, 'part.lock', 'owner'), `${dead}\n`);
    unpackOnce(spec);
    expect(notices).toEqual([`webgpu-mlp: taking over ${spec.dir}.lock (its process ${dead} is gone)`]);
    expect(readdirSync(parent)).toEqual(['part']);
  });

  it('waits for a live lock, then says who holds it and what to do', () => {
    mkdirSync(join(work, 'cache', 'pkg-1.0.0', 'part.lock'), { recursive: true });
    writeFileSync(join(spec.dir, '..', 'part.lock', 'owner'), `${process.pid}\n`);
    const t0 = Date.now();
    expect(() => unpackOnce({ ...spec, waitMs: 1000 })).toThrow(
      `Waited 1 s for another process to unpack pkg 1.0.0 part into ${spec.dir} (lock ${spec.dir}.lock). If no other process is running, remove the lock folder and try again.`,
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('says the package is damaged when a .br file does not decompress', () => {
    writeFileSync(join(work, 'tool.br'), 'not brotli at all');
    expect(() => unpackOnce(spec)).toThrow(
      /Cannot decompress .*tool\.br .*the installed package is damaged\. Run `npm ci`/,
    );
    expect(existsSync(spec.dir)).toBe(false);
    expect(readdirSync(join(work, 'cache', 'pkg-1.0.0'))).toEqual([]); // no temporary folder, no lock
  });

  it('says so when the archive lacks a file asked for', () => {
    spec = { ...spec, sources: [{ ...spec.sources[0], only: ['lib/libfake.so', 'vk_icd.json'] }] } as UnpackSpec;
    expect(() => unpackOnce(spec)).toThrow(/parts\.tar\.br lacks vk_icd\.json: not the package version expected/);
  });
});

describe('readTar', () => {
  it('reads files with long (prefix) paths and skips folders', () => {
    const long = `${'d'.repeat(120)}/file.txt`;
    const archive = tar([
      { path: 'folder/', type: '5' },
      { path: 'a.txt', data: 'a' },
    ]);
    expect(readTar(archive, 'x.tar').map((f) => f.path)).toEqual(['a.txt']);
    // GNU long name ('L' entry before the file)
    const gnu = tar([
      { path: '././@LongLink', type: 'L', data: `${long}\0` },
      { path: long.slice(0, 99), data: 'x' },
    ]);
    expect(readTar(gnu, 'x.tar')[0].path).toBe(long);
  });

  it('refuses paths outside the folder, links, and a truncated archive', () => {
    expect(() => readTar(tar([{ path: '../evil.so', data: 'x' }]), 'x.tar')).toThrow(
      'x.tar: the path ../evil.so points outside the folder it unpacks into',
    );
    expect(() => readTar(tar([{ path: 'link.so', type: '2' }]), 'x.tar')).toThrow(
      "x.tar: link.so is of tar type '2'; only files and folders are expected",
    );
    const archive = tar([{ path: 'big.bin', data: new Uint8Array(2000) }]);
    expect(() => readTar(archive.subarray(0, 1024), 'x.tar')).toThrow(
      'x.tar is truncated: big.bin runs past the end of the archive',
    );
  });
});

describe('several processes at once', () => {
  it('all get the same complete folder; nothing is left beside it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'webgpu-mlp-unpack-build-'));
    try {
      await build({
        configFile: false,
        logLevel: 'warn',
        root: ROOT,
        build: {
          ssr: join(ROOT, 'src/node/unpack.ts'),
          outDir: out,
          emptyOutDir: true,
          target: 'node20',
          rollupOptions: { output: { entryFileNames: 'unpack.js' } },
        },
      });
      // A bigger file, so that the unpacks overlap.
      const big = new Uint8Array(24 << 20).map((_, i) => (i * 2654435761) >>> 24);
      writeFileSync(join(work, 'parts.tar.br'), brotliCompressSync(tar([{ path: 'lib/libfake.so', data: big }])));
      const job = { ...spec, sources: [{ ...spec.sources[0], only: ['lib/libfake.so'] }], log: undefined };
      writeFileSync(
        join(out, 'run.mjs'),
        `import { unpackOnce, verifyUnpacked } from './unpack.js';
         const spec = ${JSON.stringify(job)};
         const dir = unpackOnce(spec);
         console.log(JSON.stringify({ dir, problem: verifyUnpacked(dir, spec.label) ?? null }));`,
      );
      const runs = await Promise.all(
        Array.from(
          { length: 4 },
          () =>
            new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
              execFile(process.execPath, [join(out, 'run.mjs')], { timeout: 120_000 }, (error, stdout, stderr) =>
                done({ code: error ? 1 : 0, stdout, stderr }),
              ),
            ),
        ),
      );
      for (const run of runs) {
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual({ dir: spec.dir, problem: null });
      }
      expect(readdirSync(join(work, 'cache', 'pkg-1.0.0'))).toEqual(['part']);
      expect(statSync(join(spec.dir, 'lib/libfake.so')).size).toBe(big.length);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
