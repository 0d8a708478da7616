/**
 * Unpacks Brotli-compressed files (a single file, or a plain tar) into a cache folder once, so that
 * every later process reuses it. Node only (see ./webgpu-runtime.ts, its one user).
 *
 * - Atomic: files are written to a temporary sibling folder, with a marker listing every file's
 *   size and SHA-256, then renamed into place; a process killed half-way leaves no partial folder
 *   under the final name.
 * - Verified on use: the marker is checked against the files (sizes and hashes) the first time a
 *   process asks; a folder that fails is unpacked again, with a notice saying what was wrong.
 * - Safe when several processes start at once (Vitest runs its test files in parallel forks): one
 *   of them unpacks, holding a lock folder; the others wait for it and then use its result. A lock
 *   left by a process that died is taken over.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';

/** One compressed file to unpack: a tar (`kind: 'tar'`) into `into`, or a single file to `into`. */
export interface UnpackSource {
  /** Absolute path of the `.br` file. */
  file: string;
  kind: 'tar' | 'file';
  /** Where it goes, relative to the unpack folder: a folder for a tar (`''` for the top), a file name otherwise. */
  into: string;
  /** For `kind: 'tar'`: only these paths of the archive (default: all). */
  only?: readonly string[];
  /** File mode for `kind: 'file'` (default 0o644). */
  mode?: number;
}

export interface UnpackSpec {
  /** The final folder, e.g. `node_modules/.cache/webgpu-mlp/sparticuz-chromium-147.0.0/swiftshader`. */
  dir: string;
  /** What the folder is, for messages and the marker (`'@sparticuz/chromium 147.0.0 swiftshader'`). */
  label: string;
  sources: readonly UnpackSource[];
  /** Small text files to write as well (relative path → content), e.g. a fonts.conf. `{dir}` is replaced by the final folder. */
  extra?: Readonly<Record<string, string>>;
  /** Where notices go (a redone unpack, a lock taken over); default `console.error`. */
  log?: (line: string) => void;
  /** How long to wait for another process's unpack before giving up (ms); default 10 minutes. */
  waitMs?: number;
}

/** The marker file inside a complete folder. */
export const MARKER = '.complete.json';

interface Marker {
  label: string;
  files: { path: string; size: number; sha256: string }[];
}

/** A lock older than this is taken over even if its owner seems alive (a pid from another machine or namespace). */
const STALE_LOCK_MS = 15 * 60_000;
/** A lock folder that has no owner file yet for this long was left by a process that died while taking it. */
const OWNERLESS_LOCK_MS = 30_000;

/** Returns the unpacked folder, unpacking it first when it is missing, partial or damaged. Synchronous. */
export function unpackOnce(spec: UnpackSpec): string {
  const log = spec.log ?? ((line: string) => console.error(line));
  const problem = verifyUnpacked(spec.dir, spec.label);
  if (problem === undefined) return spec.dir;
  mkdirSync(dirname(spec.dir), { recursive: true });
  const lock = `${spec.dir}.lock`;
  const deadline = Date.now() + (spec.waitMs ?? 10 * 60_000);
  while (!tryLock(lock, log)) {
    if (Date.now() > deadline) {
      throw new Error(
        `Waited ${Math.round((spec.waitMs ?? 600_000) / 1000)} s for another process to unpack ${spec.label} into ${spec.dir} (lock ${lock}). ` +
          'If no other process is running, remove the lock folder and try again.',
      );
    }
    sleep(200);
  }
  try {
    // Another process may have finished while this one waited for the lock.
    const now = verifyUnpacked(spec.dir, spec.label);
    if (now === undefined) return spec.dir;
    if (now !== 'missing') log(`webgpu-mlp: ${spec.dir} is damaged (${now}); unpacking ${spec.label} again`);
    removeLeftovers(spec.dir);
    const tmp = `${spec.dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      extractInto(tmp, spec);
      rmSync(spec.dir, { recursive: true, force: true });
      renameSync(tmp, spec.dir);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const after = verifyUnpacked(spec.dir, spec.label);
    if (after !== undefined) {
      throw new Error(
        `Unpacked ${spec.label} into ${spec.dir}, but it does not check out (${after}). Is the disk full? Free space and try again.`,
      );
    }
    return spec.dir;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** `undefined` when `dir` holds a complete unpack of `label`; else what is wrong (`'missing'` when there is nothing). */
export function verifyUnpacked(dir: string, label: string): string | undefined {
  let marker: Marker;
  try {
    marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      try {
        statSync(dir);
      } catch {
        return 'missing';
      }
      return `no ${MARKER}: an unpack that did not finish`;
    }
    return `${MARKER} is unreadable: ${(error as Error).message}`;
  }
  if (marker.label !== label || !Array.isArray(marker.files))
    return `${MARKER} is for "${marker.label}", expected "${label}"`;
  for (const f of marker.files) {
    const path = join(dir, f.path);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return `${f.path} is missing`;
    }
    if (size !== f.size) return `${f.path} has ${size} bytes, expected ${f.size}`;
    if (sha256(readFileSync(path)) !== f.sha256)
      return `${f.path} has the right size but not the right content (SHA-256)`;
  }
  return undefined;
}

/** The files of a plain (ustar or GNU) tar archive. Only regular files and folders; anything else is an error. */
export function readTar(archive: Uint8Array, name: string): { path: string; mode: number; data: Uint8Array }[] {
  const files: { path: string; mode: number; data: Uint8Array }[] = [];
  const text = (at: number, length: number) => {
    const bytes = archive.subarray(at, at + length);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  };
  const octal = (at: number, length: number) => Number.parseInt(text(at, length).trim() || '0', 8);
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= archive.length) {
    if (archive.subarray(offset, offset + 512).every((b) => b === 0)) break; // end of archive
    const size = octal(offset + 124, 12);
    const type = String.fromCharCode(archive[offset + 156] || 48);
    const prefix = text(offset + 257, 6) === 'ustar' ? text(offset + 345, 155) : '';
    const path = longName ?? (prefix ? `${prefix}/${text(offset, 100)}` : text(offset, 100));
    const start = offset + 512;
    if (start + size > archive.length)
      throw new Error(`${name} is truncated: ${path} runs past the end of the archive`);
    const data = archive.subarray(start, start + size);
    longName = undefined;
    if (type === 'L') longName = text(start, size);
    else if (type === '0' || type === '7')
      files.push({ path: safePath(path, name), mode: octal(offset + 100, 8), data });
    else if (type !== '5' && type !== 'x' && type !== 'g') {
      throw new Error(`${name}: ${path} is of tar type '${type}'; only files and folders are expected`);
    }
    offset = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

function safePath(path: string, name: string): string {
  const normal = posix.normalize(path).replace(/^\.\//, '');
  if (normal.startsWith('/') || normal === '..' || normal.startsWith('../')) {
    throw new Error(`${name}: the path ${path} points outside the folder it unpacks into`);
  }
  return normal;
}

function extractInto(tmp: string, spec: UnpackSpec): void {
  const files: Marker['files'] = [];
  const write = (rel: string, data: Uint8Array, mode: number) => {
    const path = join(tmp, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
    chmodSync(path, mode);
    files.push({ path: rel, size: data.length, sha256: sha256(data) });
  };
  for (const source of spec.sources) {
    let raw: Buffer;
    try {
      raw = brotliDecompressSync(readFileSync(source.file));
    } catch (cause) {
      throw new Error(
        `Cannot decompress ${source.file} (${(cause as Error).message}): the installed package is damaged. Run \`npm ci\` to install it again.`,
        { cause },
      );
    }
    if (source.kind === 'file') {
      write(source.into, raw, source.mode ?? 0o644);
      continue;
    }
    const entries = readTar(raw, basename(source.file));
    const wanted = source.only ? new Set(source.only) : undefined;
    for (const entry of entries) {
      if (wanted && !wanted.has(entry.path)) continue;
      wanted?.delete(entry.path);
      write(source.into ? posix.join(source.into, entry.path) : entry.path, entry.data, entry.mode & 0o777);
    }
    if (wanted?.size)
      throw new Error(`${source.file} lacks ${[...wanted].join(', ')}: not the package version expected`);
  }
  for (const [rel, content] of Object.entries(spec.extra ?? {})) {
    write(rel, new TextEncoder().encode(content.replaceAll('{dir}', spec.dir)), 0o644);
  }
  writeFileSync(join(tmp, MARKER), `${JSON.stringify({ label: spec.label, files } satisfies Marker, null, 1)}\n`);
}

/** Takes the lock folder, or returns false while another live process holds it. */
function tryLock(lock: string, log: (line: string) => void): boolean {
  try {
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner'), `${process.pid}\n`);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stale = staleLock(lock);
  if (stale) {
    log(`webgpu-mlp: taking over ${lock} (${stale})`);
    // Renamed first, so that two processes taking over at once cannot both succeed.
    const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(lock, aside);
      rmSync(aside, { recursive: true, force: true });
    } catch {}
  }
  return false;
}

function staleLock(lock: string): string | undefined {
  let age: number;
  try {
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return undefined; // gone: the next try takes it
  }
  let owner: number;
  try {
    owner = Number(readFileSync(join(lock, 'owner'), 'utf8'));
  } catch {
    return age > OWNERLESS_LOCK_MS ? 'it has no owner file: its process died while taking it' : undefined;
  }
  if (age > STALE_LOCK_MS) return `it is ${Math.round(age / 60_000)} minutes old`;
  return isAlive(owner) ? undefined : `its process ${owner} is gone`;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temporary folders left by processes that died while unpacking next to `dir`. */
function removeLeftovers(dir: string): void {
  const prefix = `${basename(dir)}.`;
  for (const name of readdirSync(dirname(dir))) {
    const m = /^(?:tmp|lock\.stale)-(\d+)-/.exec(name.slice(prefix.length));
    if (!name.startsWith(prefix) || !m) continue;
    if (!isAlive(Number(m[1])) || Number(m[1]) === process.pid) {
      rmSync(join(dirname(dir), name), { recursive: true, force: true });
    }
  }
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
