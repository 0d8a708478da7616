/**
 * Files the CLI writes: checked before any work (a bad `--out` is found at once, not after training),
 * and written atomically (a temporary file beside the target, flushed to disk, then renamed over it),
 * so a failure or a kill mid-write leaves the previous file whole. Only a regular file is ever
 * replaced: a target that exists as anything else (a device, a FIFO, a socket, a directory) is refused,
 * by the check and again by the write, since a rename would put a file in its place.
 */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  realpathSync,
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
  const other = notRegular(file);
  if (other) throw new Error(`${flag} ${file} ${other}`);
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

/** The file a path names, through symbolic links (the path itself when it does not exist yet). */
function realTarget(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function statOrUndefined(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with replacing `file` — it exists and is not a regular file (after symbolic links):
 * "is a character device, not a regular file: …" — or undefined when it is one or does not exist.
 */
export function notRegular(file: string): string | undefined {
  const stat = statOrUndefined(file);
  if (!stat || stat.isFile()) return undefined;
  const kind = stat.isDirectory()
    ? 'a directory'
    : stat.isCharacterDevice()
      ? 'a character device'
      : stat.isBlockDevice()
        ? 'a block device'
        : stat.isFIFO()
          ? 'a FIFO (named pipe)'
          : stat.isSocket()
            ? 'a socket'
            : 'not a file';
  return `is ${kind}, not a regular file: it is never replaced; give the path of a regular file, or of one that does not exist yet`;
}

/**
 * Writes `bytes` to `path` atomically: temporary file, fsync, rename, then fsync of the directory.
 * A target that exists and is not a regular file is refused (see notRegular), before anything is
 * written and again just before the rename; a symbolic link to a file has that file replaced.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const file = realTarget(resolve(path));
  const refuse = (prefix: string): void => {
    const other = notRegular(file);
    if (other) throw new Error(`${prefix}it ${other}`);
  };
  refuse(`cannot write ${file}: `);
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
    refuse(''); // made meanwhile? (the catch names the file)
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
