// waitFor(pred, ms) for the fakes: a test waits until its predicate over the fake's records holds, and
// the fake calls notify() whenever a record or its state changes. Shared by apns.js, walletpasses.js
// and google.js, so that each times out with the same message shape. Node built-ins only.

/**
 * @param {string} name  the fake's name in the timeout message ('fake APNs')
 * @param {() => any[]} args  what the predicate is called with (first: the records array)
 * @returns {{ notify: () => void, waitFor: (pred: Function, timeoutMs?: number) => Promise<any> }}
 *   waitFor resolves with the predicate's first truthy value, rejects with what it throws, or after
 *   timeoutMs with `NAME: condition not met within MS ms (N requests recorded)`.
 */
export function makeWaiters(name, args) {
  const waiters = new Set();

  function notify() {
    for (const w of waiters) w();
  }

  function waitFor(pred, timeoutMs = 5000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try {
          v = pred(...args());
        } catch (e) {
          cleanup();
          reject(e);
          return;
        }
        if (v) {
          cleanup();
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name}: condition not met within ${timeoutMs} ms (${args()[0].length} requests recorded)`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  return { notify, waitFor };
}
