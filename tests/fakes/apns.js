// A fake Apple Push Notification service (APNs) for Wallet passes.
//
// HTTP/2 over TLS (ALPN h2 only, TLS 1.2+), a client certificate chaining to the development CA is
// required, and every request is checked the way Apple documents it (see README.md in this
// directory for each rule and its source). Node built-ins only.
//
//   import { startFakeApns } from '../fakes/apns.js';
//   const apns = await startFakeApns({ caFile, certFile, keyFile });
//   ... apns.url, apns.pushes, apns.setMode('unregistered', { tokens: [t] }), apns.stats() ...
//   await apns.stop();
//
// Standalone: node tests/fakes/apns.js --ca ca.pem --cert localhost.pem --key localhost.key --port 2197

import http2 from 'node:http2';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { makeWaiters } from './lib/waiters.js';
import { okMode, spend, releaseHeld, dropHeld, cancelHeld } from './lib/modes.js';
import { listen, keepBody, tell } from './lib/server.js';
import { argsOrExit, printJson, trimRecords, serveControl, runIfMain } from './lib/cli.js';

// Every reason string Apple documents, with its status ("Handling notification responses from APNs").
export const REASONS = Object.freeze({
  BadCollapseId: 400,
  BadDeviceToken: 400,
  BadExpirationDate: 400,
  BadMessageId: 400,
  BadPriority: 400,
  BadTopic: 400,
  DeviceTokenNotForTopic: 400,
  DuplicateHeaders: 400,
  IdleTimeout: 400,
  InvalidPushType: 400,
  MissingDeviceToken: 400,
  MissingTopic: 400,
  PayloadEmpty: 400,
  TopicDisallowed: 400,
  BadCertificate: 403,
  BadCertificateEnvironment: 403,
  ExpiredProviderToken: 403,
  Forbidden: 403,
  InvalidProviderToken: 403,
  MissingProviderToken: 403,
  BadPath: 404,
  MethodNotAllowed: 405,
  ExpiredToken: 410,
  Unregistered: 410,
  PayloadTooLarge: 413,
  TooManyProviderTokenUpdates: 429,
  TooManyRequests: 429,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  Shutdown: 503,
});

// Not an Apple reason: Apple documents none for a body that is not a JSON object (or, for Wallet, not
// `{}`). The fake answers 400 with this reason; a client must treat any 400 reason it does not know as
// "a bug of ours: log, don't retry".
export const FAKE_BAD_PAYLOAD = 'BadPayload';

// apns-push-type values Apple documents ("Sending notification requests to APNs"). Types marked with a
// suffix require the topic to end with it; the fake refuses them otherwise with InvalidPushType
// (Apple names no reason for that case: the fake's choice).
export const PUSH_TYPES = Object.freeze({
  alert: null,
  background: null,
  location: '.location-query',
  voip: '.voip',
  complication: '.complication',
  fileprovider: '.pushkit.fileprovider',
  mdm: null,
  liveactivity: '.push-type.liveactivity',
  pushtotalk: '.voip-ptt',
  widgets: '.push-type.widgets',
  controls: '.push-type.controls',
});

export const MODES = Object.freeze([
  'ok', 'unregistered', 'badToken', 'notForTopic', 'tooMany', 'error', 'unavailable', 'forbidden', 'stall',
]);

const MODE_DEFAULT_REASON = {
  unregistered: 'Unregistered',
  badToken: 'BadDeviceToken',
  notForTopic: 'DeviceTokenNotForTopic',
  tooMany: 'TooManyRequests',
  error: 'InternalServerError',
  unavailable: 'ServiceUnavailable',
  forbidden: 'BadCertificate',
};
const MODE_ALLOWED_REASONS = {
  unregistered: ['Unregistered', 'ExpiredToken'],
  badToken: ['BadDeviceToken'],
  notForTopic: ['DeviceTokenNotForTopic'],
  tooMany: ['TooManyRequests'],
  error: ['InternalServerError'],
  unavailable: ['ServiceUnavailable', 'Shutdown'],
  forbidden: ['BadCertificate', 'BadCertificateEnvironment', 'Forbidden'],
};
// Modes that stand for the service as a whole (answered whatever the request); the others concern a
// device token and apply only to a request that passed the protocol checks.
const SERVICE_MODES = new Set(['error', 'unavailable', 'forbidden', 'stall']);

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PATH_RE = /^\/3\/device\/([^/?#]*)$/;

function readPem(file, what) {
  if (!file) throw new Error(`startFakeApns: ${what} is required`);
  return fs.readFileSync(file);
}

function subjectString(subject) {
  if (!subject) return null;
  return Object.entries(subject)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`))
    .join(', ');
}

function plainHeaders(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) out[k] = v;
  return out;
}

/**
 * Start the fake.
 * @param {object} o
 * @param {string} o.caFile      PEM root CA(s) that client certificates must chain to (dev `ca.pem`).
 * @param {string} o.certFile    server certificate (dev `localhost.pem`, SAN localhost + 127.0.0.1).
 * @param {string} o.keyFile     its key (dev `localhost.key`).
 * @param {string} [o.wwdrFile]  intermediate(s) the server already knows, as Apple knows its WWDR
 *                               certificates: then a client may send its leaf certificate alone.
 *                               Without it the client must send leaf + intermediate.
 * @param {number} [o.port=0]
 * @param {string} [o.host='127.0.0.1']
 * @param {number} [o.maxConcurrentStreams=1000]  advertised SETTINGS_MAX_CONCURRENT_STREAMS
 * @param {boolean} [o.requireTopic=true]  refuse a request without apns-topic (MissingTopic). Apple
 *                               instead defaults the topic to the certificate's subject when the
 *                               certificate has a single topic; false reproduces that.
 * @param {boolean} [o.wallet=true] the body must be the empty dictionary `{}` (Apple, Wallet).
 * @param {RegExp} [o.tokenPattern=/^[0-9a-fA-F]{64}$/]
 * @param {number} [o.maxPayload=4096]
 * @param {number} [o.idleTimeoutMs=0]  >0: GOAWAY {"reason":"IdleTimeout"} after that much idle time.
 * @param {(rec:object)=>void} [o.onPush]  called when a request has been answered.
 */
export async function startFakeApns({
  caFile,
  certFile,
  keyFile,
  wwdrFile,
  port = 0,
  host = '127.0.0.1',
  maxConcurrentStreams = 1000,
  requireTopic = true,
  wallet = true,
  tokenPattern = /^[0-9a-fA-F]{64}$/,
  maxPayload = 4096,
  idleTimeoutMs = 0,
  onPush,
} = {}) {
  const ca = [readPem(caFile, 'caFile')];
  if (wwdrFile) ca.push(fs.readFileSync(wwdrFile));

  const pushes = [];
  const held = new Set(); // stalled { rec, stream }
  const sessions = new Set();
  const { notify, waitFor } = makeWaiters('fake APNs', () => [pushes]);
  let seq = 0;
  let connSeq = 0;
  let mode = freshMode();
  let st = freshStats();
  let stopping = false;

  function freshMode() {
    return okMode({ setAt: Date.now(), tokens: null });
  }
  function freshStats() {
    return {
      connections: 0, // TLS connections that reached HTTP/2 with an accepted client certificate
      openConnections: 0,
      maxConcurrentStreams: 0, // the most streams open at once on one connection
      peakInFlight: 0, // the most streams open at once over all connections
      inFlight: 0,
      streams: 0,
      tlsErrors: [], // refused handshakes: { time, code, message }
      alpnFailures: 0, // TLS connections that did not negotiate h2
      perConnection: [],
    };
  }

  const server = http2.createSecureServer({
    key: readPem(keyFile, 'keyFile'),
    cert: readPem(certFile, 'certFile'),
    ca,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: false,
    minVersion: 'TLSv1.2',
    settings: { maxConcurrentStreams },
  });

  // Refused handshakes. A missing client certificate fails inside OpenSSL (the client gets a
  // "certificate required" alert) and arrives as tlsClientError. A certificate that does not verify
  // (other CA, expired, intermediate missing) is refused by Node after the handshake: it closes the
  // socket without an alert and sets authorizationError, which the 'keylog' hook lets us see.
  const watched = new WeakSet();
  server.on('keylog', (line, socket) => {
    if (watched.has(socket)) return;
    watched.add(socket);
    socket.once('close', () => {
      if (!socket.authorized && socket.authorizationError) {
        st.tlsErrors.push({ time: Date.now(), code: socket.authorizationError, message: 'client certificate rejected' });
      }
    });
  });
  server.on('tlsClientError', (err, socket) => {
    if (socket && socket.authorizationError) return; // recorded at close, with the real cause
    st.tlsErrors.push({ time: Date.now(), code: err.code || null, message: String(err.message).split('\n')[0] });
  });
  server.on('unknownProtocol', (socket) => {
    st.alpnFailures += 1;
    socket.destroy();
  });

  server.on('session', (session) => {
    const sock = session.socket;
    const cert = sock.getPeerCertificate();
    const info = {
      id: ++connSeq,
      openedAt: Date.now(),
      closedAt: null,
      alpn: sock.alpnProtocol,
      tlsVersion: sock.getProtocol(),
      subject: cert && cert.subject ? { ...cert.subject } : null,
      subjectString: cert && cert.subject ? subjectString(cert.subject) : null,
      issuer: cert && cert.issuer ? subjectString(cert.issuer) : null,
      fingerprint256: cert ? cert.fingerprint256 : null,
      streams: 0,
      open: 0,
      peak: 0,
    };
    const uid = info.subject && info.subject.UID;
    info.topics = uid == null ? [] : Array.isArray(uid) ? uid : [uid];
    session.fakeApns = info;
    sessions.add(session);
    st.connections += 1;
    st.openConnections += 1;
    st.perConnection.push(info);
    if (idleTimeoutMs > 0) {
      session.setTimeout(idleTimeoutMs, () => goawaySession(session, 'IdleTimeout'));
    }
    session.on('close', () => {
      info.closedAt = Date.now();
      sessions.delete(session);
      st.openConnections -= 1;
    });
    session.on('error', () => {});
  });

  server.on('stream', (stream, headers, flags, rawHeaders) => {
    const sess = stream.session.fakeApns;
    sess.streams += 1;
    sess.open += 1;
    sess.peak = Math.max(sess.peak, sess.open);
    st.streams += 1;
    st.inFlight += 1;
    st.maxConcurrentStreams = Math.max(st.maxConcurrentStreams, sess.peak);
    st.peakInFlight = Math.max(st.peakInFlight, st.inFlight);

    const path = headers[':path'];
    const m = typeof path === 'string' ? PATH_RE.exec(path) : null;
    const rec = {
      seq: ++seq,
      time: Date.now(),
      connection: sess.id,
      streamId: stream.id,
      method: headers[':method'],
      path,
      token: m ? m[1] : null,
      headers: plainHeaders(headers),
      rawHeaders,
      topic: headers['apns-topic'] ?? null,
      pushType: headers['apns-push-type'] ?? null,
      priority: headers['apns-priority'] ?? null,
      expiration: headers['apns-expiration'] ?? null,
      collapseId: headers['apns-collapse-id'] ?? null,
      requestApnsId: headers['apns-id'] ?? null,
      apnsId: null,
      body: '',
      bodyBytes: 0,
      subject: sess.subject,
      subjectString: sess.subjectString,
      protocolError: null, // { status, reason, detail } — what the protocol checks found, whatever the mode
      warnings: [],
      mode: null,
      status: null,
      reason: null,
      answeredAt: null,
      stalled: false,
      cancelled: null, // RST code when the client reset the stream before an answer
    };
    pushes.push(rec);
    notify();

    const chunks = keepBody(stream, rec, maxPayload);
    stream.on('close', () => {
      sess.open -= 1;
      st.inFlight -= 1;
      if (rec.answeredAt == null) {
        rec.cancelled = stream.rstCode ?? null;
        dropHeld(held, rec);
        notify();
      }
    });
    stream.on('error', () => {});
    stream.on('end', () => {
      const buf = Buffer.concat(chunks);
      rec.body = buf.subarray(0, Math.min(buf.length, maxPayload + 1)).toString('utf8');
      rec.protocolError = validate(rec, headers, rawHeaders, buf, sess);
      const apnsIdOk = rec.requestApnsId != null && UUID_RE.test(rec.requestApnsId);
      rec.apnsId = apnsIdOk ? rec.requestApnsId : crypto.randomUUID();
      dispatch(rec, stream);
    });
  });

  function validate(rec, headers, rawHeaders, buf, sess) {
    const err = (reason, detail) => ({ status: REASONS[reason] ?? 400, reason, detail });
    if (rec.method !== 'POST') return err('MethodNotAllowed', `method ${rec.method}`);
    const path = rec.path;
    if (typeof path !== 'string' || PATH_RE.exec(path) == null) return err('BadPath', `path ${path}`);

    const seen = new Set();
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = String(rawHeaders[i]).toLowerCase();
      if (name === 'cookie') continue;
      if (seen.has(name)) return err('DuplicateHeaders', `header ${name} repeated`);
      seen.add(name);
    }

    const topics = sess.topics;
    let topic = headers['apns-topic'];
    if (topic === undefined) {
      if (requireTopic || topics.length !== 1) return err('MissingTopic', 'no apns-topic header');
      topic = topics[0];
      rec.topic = topic;
      rec.warnings.push('apns-topic omitted: defaulted to the certificate subject UID');
    } else if (topic === '') {
      return err('BadTopic', 'empty apns-topic');
    } else if (!topics.includes(topic)) {
      return err('TopicDisallowed', `apns-topic ${topic} is not the certificate's topic (${topics.join(', ') || 'none'})`);
    }

    if (rec.token === '') return err('MissingDeviceToken', 'no device token in :path');
    if (!tokenPattern.test(rec.token)) return err('BadDeviceToken', `token ${rec.token} does not match ${tokenPattern}`);

    const prio = headers['apns-priority'];
    if (prio !== undefined && !['10', '5', '1'].includes(prio)) return err('BadPriority', `apns-priority ${prio}`);

    const exp = headers['apns-expiration'];
    if (exp !== undefined && !/^[0-9]+$/.test(exp)) return err('BadExpirationDate', `apns-expiration ${exp}`);

    const id = headers['apns-id'];
    if (id !== undefined && !UUID_RE.test(id)) return err('BadMessageId', `apns-id ${id}`);

    const collapse = headers['apns-collapse-id'];
    if (collapse !== undefined && Buffer.byteLength(collapse) > 64) return err('BadCollapseId', 'apns-collapse-id longer than 64 bytes');

    const pt = headers['apns-push-type'];
    if (pt !== undefined) {
      if (!Object.hasOwn(PUSH_TYPES, pt)) return err('InvalidPushType', `apns-push-type ${pt}`);
      const suffix = PUSH_TYPES[pt];
      if (suffix && !topic.endsWith(suffix)) return err('InvalidPushType', `apns-push-type ${pt} needs a topic ending in ${suffix}`);
      if (pt === 'background' && prio !== '5') rec.warnings.push('background push without apns-priority 5');
    }

    if (rec.bodyBytes > maxPayload) return err('PayloadTooLarge', `${rec.bodyBytes} bytes > ${maxPayload}`);
    if (rec.bodyBytes === 0) return err('PayloadEmpty', 'empty body');
    let json;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return err(FAKE_BAD_PAYLOAD, 'body is not JSON');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return err(FAKE_BAD_PAYLOAD, 'body is not a JSON object');
    if (wallet && Object.keys(json).length !== 0) return err(FAKE_BAD_PAYLOAD, 'Wallet payload must be the empty dictionary {}');
    return null;
  }

  function modeApplies(rec) {
    if (mode.name === 'ok') return false;
    if (mode.tokens && !mode.tokens.has(rec.token)) return false;
    if (!SERVICE_MODES.has(mode.name) && rec.protocolError) return false;
    return true;
  }

  function consumeMode() {
    if (spend(mode)) mode = freshMode();
  }

  function dispatch(rec, stream) {
    if (stream.destroyed || stream.closed) return;
    if (modeApplies(rec) && mode.name === 'stall') {
      rec.stalled = true;
      rec.mode = 'stall';
      consumeMode();
      held.add({ rec, stream });
      notify();
      return;
    }
    let status = 200;
    let reason = null;
    let goaway = false;
    let timestamp;
    rec.mode = mode.name;
    if (modeApplies(rec)) {
      reason = mode.opts.reason || MODE_DEFAULT_REASON[mode.name];
      status = REASONS[reason];
      goaway = Boolean(mode.opts.goaway);
      timestamp = mode.opts.timestamp;
      consumeMode();
    } else if (rec.protocolError) {
      ({ status, reason } = rec.protocolError);
    }
    answer(rec, stream, status, reason, timestamp);
    if (goaway) goawaySession(stream.session, reason);
  }

  function answer(rec, stream, status, reason, timestamp) {
    rec.status = status;
    rec.reason = reason;
    rec.answeredAt = Date.now();
    const headers = { ':status': status, 'apns-id': rec.apnsId };
    try {
      if (status === 200) {
        stream.respond(headers, { endStream: true });
      } else {
        const body = { reason };
        if (status === 410) body.timestamp = timestamp ?? Date.now();
        rec.responseBody = body;
        stream.respond({ ...headers, 'content-type': 'application/json' });
        stream.end(JSON.stringify(body));
      }
    } catch {
      // stream went away meanwhile; the record keeps what we meant to answer
    }
    tell(onPush, rec);
    notify();
  }

  function goawaySession(session, reason) {
    if (session.destroyed || session.closed) return;
    try {
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, undefined, Buffer.from(JSON.stringify({ reason })));
      session.close();
    } catch {
      // already closing
    }
  }

  function setMode(name, opts = {}) {
    if (!MODES.includes(name)) throw new Error(`unknown mode ${name}; one of ${MODES.join(', ')}`);
    if (opts.reason !== undefined) {
      const allowed = MODE_ALLOWED_REASONS[name] || [];
      if (!allowed.includes(opts.reason)) throw new Error(`mode ${name}: reason ${opts.reason} not one of ${allowed.join(', ')}`);
    }
    const count = opts.count ?? opts.times;
    mode = {
      name,
      opts: { ...opts },
      setAt: Date.now(),
      remaining: count == null ? Infinity : Number(count),
      tokens: opts.tokens ? new Set(opts.tokens) : null,
    };
    if (name === 'unregistered' && mode.opts.timestamp == null) mode.opts.timestamp = mode.setAt;
    // release what was stalled: each held stream is answered under the new mode
    releaseHeld(held, ({ rec, stream }) => dispatch(rec, stream));
  }

  const { port: actualPort, urlHost } = await listen(server, port, host);

  return {
    url: `https://${urlHost}:${actualPort}`,
    port: actualPort,
    pushes,
    setMode,
    mode: () => ({ name: mode.name, opts: { ...mode.opts }, remaining: mode.remaining }),
    stats() {
      return {
        ...st,
        tlsErrors: [...st.tlsErrors],
        perConnection: st.perConnection.map((c) => ({ ...c })),
        held: held.size,
      };
    },
    /** Clear recorded pushes and statistics (the live `pushes` array is emptied in place). */
    reset() {
      pushes.length = 0;
      // connections still open stay listed (and count), with their peaks restarted
      const live = st.perConnection.filter((c) => c.closedAt == null);
      const inFlight = st.inFlight;
      st = freshStats();
      st.openConnections = live.length;
      st.connections = live.length;
      st.inFlight = inFlight;
      st.perConnection = live;
      for (const c of live) {
        c.peak = c.open;
        st.maxConcurrentStreams = Math.max(st.maxConcurrentStreams, c.peak);
      }
    },
    /** Resolve with pushes once `n` requests have been answered (status set). */
    waitForPushes(n, timeoutMs = 5000) {
      return waitFor((p) => (p.filter((r) => r.status != null).length >= n ? p : null), timeoutMs);
    },
    waitFor,
    /** Send GOAWAY (with the JSON reason, as APNs does) on every open connection and close them. */
    goaway(reason = 'Shutdown') {
      for (const s of sessions) goawaySession(s, reason);
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      cancelHeld(held, ({ rec, stream }) => {
        rec.reason = 'stopped';
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      const closed = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.destroy();
      await closed;
    },
  };
}

// ---- command line ----------------------------------------------------------------------------

const ARGS = {
  values: {
    '--ca': 'caFile',
    '--cert': 'certFile',
    '--key': 'keyFile',
    '--wwdr': 'wwdrFile',
    '--port': ['port', Number],
    '--host': 'host',
    '--max-streams': ['maxConcurrentStreams', Number],
    '--idle-timeout-ms': ['idleTimeoutMs', Number],
    '--mode': 'mode',
  },
  flags: { '--no-require-topic': { requireTopic: false }, '--no-wallet': { wallet: false }, '--quiet': { quiet: true } },
};

const USAGE = `usage: node tests/fakes/apns.js --ca CA.pem --cert SERVER.pem --key SERVER.key [--port N]
        [--host 127.0.0.1] [--wwdr WWDR.pem] [--max-streams 1000] [--idle-timeout-ms MS]
        [--no-require-topic] [--no-wallet] [--mode MODE] [--quiet]
Prints "listening https://HOST:PORT", then one JSON line per answered request (unless --quiet).
Control on stdin, one JSON object a line:
  {"mode":"unregistered","opts":{"tokens":["<hex>"]}}   {"stats":true}   {"reset":true}   {"goaway":"Shutdown"}
Modes: ${MODES.join(', ')}`;

async function main() {
  const o = argsOrExit(USAGE, ARGS, (a) => a.caFile && a.certFile && a.keyFile);
  const quiet = o.quiet;
  const onPush = quiet
    ? undefined
    : (r) => {
        const line = {
          time: new Date(r.time).toISOString(), connection: r.connection, stream: r.streamId, method: r.method,
          path: r.path, topic: r.topic, pushType: r.pushType, priority: r.priority, bytes: r.bodyBytes,
          status: r.status, reason: r.reason, apnsId: r.apnsId, mode: r.mode,
          protocolError: r.protocolError && r.protocolError.detail, subject: r.subjectString,
        };
        printJson(line);
      };
  const fake = await startFakeApns({ ...o, onPush });
  trimRecords(fake.pushes);
  if (o.mode) fake.setMode(o.mode);
  process.stdout.write(`listening ${fake.url}\n`);

  serveControl(fake, (cmd) => {
    if (cmd.mode) fake.setMode(cmd.mode, cmd.opts || {});
    if (cmd.reset) fake.reset();
    if (cmd.goaway) fake.goaway(cmd.goaway === true ? 'Shutdown' : cmd.goaway);
    if (cmd.stats) {
      const s = fake.stats();
      delete s.perConnection;
      printJson({ stats: s, mode: fake.mode() });
    }
  });
}

runIfMain(import.meta.url, main);
