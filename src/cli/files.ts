/**
 * Files the CLI writes: checked before any work (a bad `--out` is found at once, not after training),
 * and written atomically (a temporary file beside the target, flushed to disk, then renamed over it),
 * so a failure or a kill mid-write leaves the previous file whole.
 */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Throws unless every given output path can be written: not a directory, its nearest existing ancestor
 * a writable directory, no two outputs the same file, and none the same as `resume` (read at start, so
 * the model must not replace it). Paths may be undefined (not asked for).
 */
export function checkOutputPaths(outputs: Record<string, string | undefined>, resume?: string): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of Object.entries(outputs)) {
    if (path === undefined) continue;
    const file = resolve(path);
    const other = seen.get(file);
    if (other) throw new Error(`${other} and ${flag} name the same file (${path}): give them different paths`);
    seen.set(file, flag);
    checkWritable(flag, file);
  }
  const out = outputs['--out'];
  if (resume !== undefined && out !== undefined && resolve(resume) === resolve(out)) {
    throw new Error(`--out ${out} is the checkpoint being resumed: the model would replace it; give another --out`);
  }
}

function checkWritable(flag: string, file: string): void {
  const stat = statOrUndefined(file);
  if (stat?.isDirectory()) throw new Error(`${flag} ${file} is a directory: give a file path`);
  let dir = dirname(file);
  for (;;) {
    const s = statOrUndefined(dir);
    if (s) {
      if (!s.isDirectory()) throw new Error(`${flag} ${file}: ${dir} is a file, not a directory`);
      try {
        accessSync(dir, constants.W_OK);
      } catch {
        throw new Error(`${flag} ${file}: the directory ${dir} is not writable`);
      }
      return;
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Writes `bytes` to `path` atomically: temporary file, fsync, rename, then fsync of the directory. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const file = resolve(path);
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {}
    throw new Error(`cannot write ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const d = openSync(dir, 'r');
    fsyncSync(d);
    closeSync(d);
  } catch {
    // Some filesystems refuse to fsync a directory; the rename is still atomic.
  }
}
