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
 *
 * The polls of the first `quickMs` of each wait run at once (a wait begins with a poll asked for
 * outside a poll; the polls it asks for itself continue it): a wait for what the GPU has already done
 * or soon will — an error scope, a small read — ends then instead of a poll interval later, while a
 * long wait is still polled every `ms`. A fit's setup waits many such short times: on a warm device
 * (SwiftShader, 2 cores), Model.create of a `[13,100,3]` network took 3.1 ms and its B=133 step plan
 * 3.6 ms; with a window of 0.25 ms, 1.0 and 2.3 ms, and a run's epochs were as fast as before.
 */
export function spaceOutDawnPolling(ms = 1, quickMs = QUICK_POLL_MS): () => void {
  const original = globalThis.setImmediate;
  if (typeof original !== 'function' || typeof setTimeout !== 'function') return () => {};
  const isNative = (fn: unknown) =>
    typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
  let polling = false; // inside a native callback: what it schedules continues its wait
  let waitStart = 0;
  const spaced = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    if (!isNative(callback)) return original(callback, ...args);
    const now = performance.now();
    if (!polling) waitStart = now;
    const poll = (...a: unknown[]) => {
      polling = true;
      try {
        callback(...a);
      } finally {
        polling = false;
      }
    };
    return now - waitStart < quickMs ? original(poll, ...args) : setTimeout(poll, ms, ...args);
  }) as typeof setImmediate;
  globalThis.setImmediate = Object.assign(spaced, original);
  return () => {
    if (globalThis.setImmediate === spaced) globalThis.setImmediate = original;
  };
}

/** How long each wait's polls run at once before they are spaced (spaceOutDawnPolling). */
export const QUICK_POLL_MS = 0.25;
