/**
 * Dawn's Node binding polls its device with back-to-back `setImmediate` calls for as long as any
 * GPU promise is pending (mapAsync, onSubmittedWorkDone, …): a busy loop that keeps a CPU core at
 * 100% (dawn/node AsyncRunner::QueueTick). With a hardware GPU that costs a core and gives the
 * lowest latency. With a software adapter (SwiftShader) the core it takes is one the "GPU" needs:
 * on a 2-core machine, training ran 45% faster with the polls spaced 1 ms apart.
 *
 * `spaceOutDawnPolling` does that for a process that runs its work on a software adapter (the
 * `train` and `bench` commands, the tests). It replaces `globalThis.setImmediate` with a version
 * that delays callbacks implemented in native code (Dawn's poll; bound functions too) by `ms` and
 * passes every other callback straight through. It returns the function that puts the original
 * back. The library never calls it by itself: it changes a global of the application's process.
 */
export function spaceOutDawnPolling(ms = 1): () => void {
  const original = globalThis.setImmediate;
  if (typeof original !== 'function' || typeof setTimeout !== 'function') return () => {};
  const isNative = (fn: unknown) =>
    typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
  const spaced = ((callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    isNative(callback) ? setTimeout(callback, ms, ...args) : original(callback, ...args)) as typeof setImmediate;
  globalThis.setImmediate = Object.assign(spaced, original);
  return () => {
    if (globalThis.setImmediate === spaced) globalThis.setImmediate = original;
  };
}
