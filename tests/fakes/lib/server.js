// Pieces of a fake's server shared by apns.js, walletpasses.js and google.js: listening, keeping a
// request body within a bound, telling a listener about a record. Node built-ins only.

/** Listen on host:port (0: any free port); resolves with the port and the host as a URL writes it. */
export async function listen(server, port, host) {
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { port: server.address().port, urlHost: host.includes(':') ? `[${host}]` : host };
}

/**
 * Collect a request body from `stream`, counting every byte in rec.bodyBytes but keeping only the
 * chunks until more than `max` bytes are kept (enough to tell that it was too long). Returns the chunks
 * array, filled as data arrives.
 */
export function keepBody(stream, rec, max) {
  const chunks = [];
  let kept = 0;
  stream.on('data', (c) => {
    rec.bodyBytes += c.length;
    if (kept <= max) {
      chunks.push(c);
      kept += c.length;
    }
  });
  return chunks;
}

/** Tell a listener about a record; a listener's fault is not the fake's. */
export function tell(listener, rec) {
  if (!listener) return;
  try {
    listener(rec);
  } catch {
    // a listener's fault is not the fake's
  }
}
