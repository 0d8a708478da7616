/**
 * The browser's persistent store of tuning picks: one IndexedDB database (`webgpu-mlp-tune`, object
 * store `picks`, one record holding every entry). Where there is no IndexedDB (Node, some workers,
 * private modes that refuse it) `indexedDbStore()` returns null and the picks stay in memory; every
 * failure later is caught by TuneCache, which then stays in memory too.
 */
import type { ShapeTuning, TuneStore } from './cache.js';

export const TUNE_DB = 'webgpu-mlp-tune';
const STORE = 'picks';
const RECORD = 'entries';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** An IndexedDB-backed store, or null where IndexedDB is unavailable. */
export function indexedDbStore(name = TUNE_DB): TuneStore | null {
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!idb) return null;
  let db: Promise<IDBDatabase> | undefined;
  const open = () => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = idb.open(name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
      r.onblocked = () => reject(new Error(`IndexedDB ${name} is blocked by another tab`));
    });
    return db;
  };
  const transaction = async (mode: IDBTransactionMode) => (await open()).transaction(STORE, mode).objectStore(STORE);
  return {
    async load() {
      const value = await request((await transaction('readonly')).get(RECORD));
      return value && typeof value === 'object' ? (value as Record<string, ShapeTuning>) : {};
    },
    async save(entries) {
      await request((await transaction('readwrite')).put(entries, RECORD));
    },
    async clear() {
      await request((await transaction('readwrite')).delete(RECORD));
    },
  };
}

/**
 * Forgets the tuned matmul picks saved in this browser (IndexedDB), for every adapter; harmless where
 * there is no IndexedDB. A context's picks in memory: `tuneCacheOf(ctx).clear()` (which also clears its store).
 */
export async function clearSavedTuning(): Promise<void> {
  await indexedDbStore()?.clear();
}
