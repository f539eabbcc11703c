// A fake of the WalletPasses push API: the Android app "Wallet Passes" reads .pkpass files, speaks
// Apple's PassKit web service (with `Authorization: AndroidPass <token>`), and is told about a changed
// pass through its own HTTP API instead of APNs.
//
// What WalletPasses documents (https://walletpasses.io/developer/): `POST
// https://walletpasses.appspot.com/api/v1/push`, content type "application/json", the API key in
// `Authorization: <API Key>`, the body {"passTypeIdentifier": "...", "pushTokens": ["...", ...]}.
// Everything else here is the fake's choice, made strict so that a client that gets it right also works
// against a stricter server (see README.md in this directory, section walletpasses.js, for each rule and
// why). HTTPS with the development server certificate; HTTP/2 and HTTP/1.1 (Google's front end serves
// both). Node built-ins only.
//
//   import { startFakeWalletPasses } from '../fakes/walletpasses.js';
//   const wp = await startFakeWalletPasses({ certFile, keyFile, apiKey: 'k' });
//   ... wp.url + '/api/v1/push', wp.pushes, wp.setMode('tooMany', { count: 1 }), wp.setTokenError(t) ...
//   await wp.stop();
//
// Standalone: node tests/fakes/walletpasses.js --cert localhost.pem --key localhost.key --api-key KEY

import http2 from 'node:http2';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { makeWaiters } from './lib/waiters.js';
import { okMode, remainingOf, checkCount, spend, releaseHeld, dropHeld, cancelHeld } from './lib/modes.js';
import { listen, keepBody, tell } from './lib/server.js';
import { argsOrExit, printJson, trimRecords, serveControl, runIfMain } from './lib/cli.js';

export const PUSH_PATH = '/api/v1/push';

export const MODES = Object.freeze(['ok', 'unauthorized', 'forbidden', 'tooMany', 'error', 'unavailable', 'stall']);
const MODE_STATUS = { unauthorized: 401, forbidden: 403, tooMany: 429, error: 500, unavailable: 503 };
const MODE_MESSAGE = {
  unauthorized: 'invalid API key',
  forbidden: 'API key disabled',
  tooMany: 'rate limit exceeded',
  error: 'internal error',
  unavailable: 'service unavailable',
};

// Per-token errors the 200 answer can carry, in the shape of a Google Cloud Messaging multicast answer
// (what Passworks documents its similar API to return); any other string is refused by setTokenError.
export const TOKEN_ERRORS = Object.freeze([
  'NotRegistered', 'InvalidRegistration', 'MismatchSenderId', 'Unavailable', 'InternalServerError',
  'DeviceMessageRateExceeded',
]);

const BODY_KEYS = ['passTypeIdentifier', 'pushTokens'];

function readPem(file, what) {
  if (!file) throw new Error(`startFakeWalletPasses: ${what} is required`);
  return fs.readFileSync(file);
}

/**
 * Start the fake.
 * @param {object} o
 * @param {string} o.certFile   server certificate (dev `localhost.pem`, SAN localhost + 127.0.0.1)
 * @param {string} o.keyFile    its key
 * @param {string} o.apiKey     the one API key accepted in `Authorization`
 * @param {number} [o.port=0]
 * @param {string} [o.host='127.0.0.1']
 * @param {number} [o.maxBody=65536]   bytes; a longer body is 413
 * @param {number} [o.maxTokens=1000]  push tokens in one request; more is 413
 * @param {boolean} [o.results=true]   a 200 carries per-token results (GCM multicast shape); false: empty body
 * @param {(rec:object)=>void} [o.onPush]  called when a request has been answered
 */
export async function startFakeWalletPasses({
  certFile,
  keyFile,
  apiKey,
  port = 0,
  host = '127.0.0.1',
  maxBody = 65536,
  maxTokens = 1000,
  results = true,
  onPush,
} = {}) {
  if (typeof apiKey !== 'string' || apiKey === '') throw new Error('startFakeWalletPasses: apiKey is required');
  const pushes = [];
  const held = new Set(); // stalled { rec, res }
  const tokenErrors = new Map();
  const sockets = new Set();
  const { notify, waitFor } = makeWaiters('fake WalletPasses', () => [pushes]);
  let seq = 0;
  let mode = okMode();
  let st = freshStats();
  let stopping = false;

  function freshStats() {
    return { connections: 0, h2Sessions: 0, requests: 0 };
  }

  const server = http2.createSecureServer({
    key: readPem(keyFile, 'keyFile'),
    cert: readPem(certFile, 'certFile'),
    allowHTTP1: true,
    minVersion: 'TLSv1.2',
  });
  server.on('secureConnection', (sock) => {
    st.connections += 1;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('session', (session) => {
    st.h2Sessions += 1;
    session.on('error', () => {});
  });

  server.on('request', (req, res) => {
    st.requests += 1;
    const rec = {
      seq: ++seq,
      time: Date.now(),
      httpVersion: req.httpVersion,
      method: req.method,
      path: req.url,
      headers: { ...req.headers },
      authorization: req.headers.authorization ?? null,
      contentType: req.headers['content-type'] ?? null,
      body: '',
      bodyBytes: 0,
      passTypeIdentifier: null,
      pushTokens: null,
      protocolError: null, // { status, message }: what the checks found, whatever the mode
      mode: null,
      status: null,
      message: null,
      retryAfter: null,
      responseBody: null,
      answeredAt: null,
      stalled: false,
      cancelled: false,
    };
    pushes.push(rec);
    notify();
    const chunks = keepBody(req, rec, maxBody);
    req.on('error', () => {});
    res.on('close', () => {
      if (rec.answeredAt == null) {
        rec.cancelled = true;
        dropHeld(held, rec);
        notify();
      }
    });
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      rec.body = buf.subarray(0, Math.min(buf.length, maxBody + 1)).toString('utf8');
      rec.protocolError = validate(rec, buf);
      dispatch(rec, res);
    });
  });

  function validate(rec, buf) {
    const err = (status, message) => ({ status, message });
    if (rec.path !== PUSH_PATH) return err(404, `no such path ${rec.path}`);
    if (rec.method !== 'POST') return err(405, `method ${rec.method} not allowed: POST only`);
    if (rec.authorization !== apiKey) {
      return err(401, rec.authorization == null ? 'missing Authorization header' : 'invalid API key');
    }
    const ct = rec.contentType;
    if (ct == null || !/^application\/json\s*(;.*)?$/i.test(ct)) return err(400, `content-type must be application/json (got ${ct})`);
    if (rec.bodyBytes > maxBody) return err(413, `body of ${rec.bodyBytes} bytes over ${maxBody}`);
    let json;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      return err(400, 'body is not JSON');
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return err(400, 'body is not a JSON object');
    for (const k of Object.keys(json)) if (!BODY_KEYS.includes(k)) return err(400, `unknown key ${JSON.stringify(k)}`);
    const { passTypeIdentifier: ptid, pushTokens: tokens } = json;
    if (typeof ptid !== 'string' || ptid === '') return err(400, 'passTypeIdentifier must be a non-empty string');
    rec.passTypeIdentifier = ptid;
    if (!Array.isArray(tokens) || tokens.length === 0) return err(400, 'pushTokens must be a non-empty array');
    const bad = tokens.findIndex((t) => typeof t !== 'string' || t === '');
    if (bad >= 0) return err(400, `pushTokens[${bad}] must be a non-empty string`);
    rec.pushTokens = tokens;
    if (tokens.length > maxTokens) return err(413, `too many pushTokens: ${tokens.length} > ${maxTokens}`);
    return null;
  }

  function consumeMode() {
    if (spend(mode)) mode = okMode();
  }

  function dispatch(rec, res) {
    if (res.destroyed || res.closed || rec.cancelled) return;
    rec.mode = mode.name;
    if (mode.name === 'stall') {
      rec.stalled = true;
      consumeMode();
      held.add({ rec, res });
      notify();
      return;
    }
    if (mode.name !== 'ok') {
      const { opts } = mode;
      const headers = {};
      if (mode.name === 'tooMany' && opts.retryAfter !== null) {
        rec.retryAfter = String(opts.retryAfter ?? 30);
        headers['retry-after'] = rec.retryAfter;
      }
      consumeMode();
      answerError(rec, res, MODE_STATUS[rec.mode], opts.message ?? MODE_MESSAGE[rec.mode], headers);
      return;
    }
    if (rec.protocolError) {
      const headers = rec.protocolError.status === 405 ? { allow: 'POST' } : {};
      answerError(rec, res, rec.protocolError.status, rec.protocolError.message, headers);
      return;
    }
    answerOk(rec, res);
  }

  function answerOk(rec, res) {
    if (!results) {
      finish(rec, res, 200, null, {}, '');
      return;
    }
    const per = rec.pushTokens.map((t) =>
      tokenErrors.has(t) ? { error: tokenErrors.get(t) } : { message_id: `0:${Date.now()}%${crypto.randomBytes(8).toString('hex')}` },
    );
    const failure = per.filter((r) => r.error).length;
    const body = {
      multicast_id: Number(BigInt.asUintN(52, BigInt(`0x${crypto.randomBytes(8).toString('hex')}`))),
      success: per.length - failure,
      failure,
      canonical_ids: 0,
      results: per,
    };
    finish(rec, res, 200, null, { 'content-type': 'application/json; charset=UTF-8' }, JSON.stringify(body), body);
  }

  function answerError(rec, res, status, message, headers) {
    const body = { error: { code: status, message } };
    finish(rec, res, status, message, { ...headers, 'content-type': 'application/json; charset=UTF-8' }, JSON.stringify(body), body);
  }

  function finish(rec, res, status, message, headers, text, json = null) {
    rec.status = status;
    rec.message = message;
    rec.responseBody = json;
    rec.answeredAt = Date.now();
    try {
      res.writeHead(status, headers);
      res.end(text);
    } catch {
      // the client went away meanwhile; the record keeps what we meant to answer
    }
    tell(onPush, rec);
    notify();
  }

  /** Answer the next `opts.count` requests (all, without count) with this mode; releases stalled ones. */
  function setMode(name, opts = {}) {
    if (!MODES.includes(name)) throw new Error(`unknown mode ${name}; one of ${MODES.join(', ')}`);
    checkCount(opts.count);
    if (opts.retryAfter != null && !(Number.isInteger(opts.retryAfter) && opts.retryAfter >= 0)) {
      throw new Error(`retryAfter must be a non-negative integer or null (got ${opts.retryAfter})`);
    }
    mode = { name, opts: { ...opts }, remaining: remainingOf(opts.count) };
    releaseHeld(held, ({ rec, res }) => dispatch(rec, res));
  }

  /** A 200 answer reports this error for the token (until clearTokenErrors). */
  function setTokenError(token, error = 'NotRegistered') {
    if (!TOKEN_ERRORS.includes(error)) throw new Error(`unknown token error ${error}; one of ${TOKEN_ERRORS.join(', ')}`);
    tokenErrors.set(token, error);
  }

  const { port: actualPort, urlHost } = await listen(server, port, host);
  const origin = `https://${urlHost}:${actualPort}`;

  return {
    url: origin,
    pushUrl: origin + PUSH_PATH,
    port: actualPort,
    pushes,
    setMode,
    mode: () => ({ name: mode.name, opts: { ...mode.opts }, remaining: mode.remaining }),
    setTokenError,
    clearTokenErrors: () => tokenErrors.clear(),
    /** Tokens accepted in answered 200s, in order (what reached "the devices"). */
    delivered: () => pushes.filter((r) => r.status === 200).flatMap((r) => r.pushTokens.filter((t) => !tokenErrors.has(t))),
    stats: () => ({ ...st, held: held.size, openConnections: sockets.size }),
    /** Empties the records (in place) and restarts the counters; the mode and token errors stay. */
    reset() {
      pushes.length = 0;
      st = freshStats();
    },
    /** Resolve with pushes once `n` requests have been answered. */
    waitForPushes(n, timeoutMs = 5000) {
      return waitFor((p) => (p.filter((r) => r.status != null).length >= n ? p : null), timeoutMs);
    },
    waitFor,
    async stop() {
      if (stopping) return;
      stopping = true;
      cancelHeld(held, ({ rec, res }) => {
        rec.message = 'stopped';
        res.stream ? res.stream.close(http2.constants.NGHTTP2_CANCEL) : res.destroy();
      });
      const closed = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

// ---- command line ----------------------------------------------------------------------------

const ARGS = {
  values: {
    '--cert': 'certFile',
    '--key': 'keyFile',
    '--api-key': 'apiKey',
    '--port': ['port', Number],
    '--host': 'host',
    '--max-body': ['maxBody', Number],
    '--max-tokens': ['maxTokens', Number],
  },
  flags: { '--no-results': { results: false }, '--quiet': { quiet: true } },
};

const USAGE = `usage: node tests/fakes/walletpasses.js --cert SERVER.pem --key SERVER.key --api-key KEY [--port N]
        [--host 127.0.0.1] [--max-body 65536] [--max-tokens 1000] [--no-results] [--quiet]
Prints "listening https://HOST:PORT", then one JSON line per answered request (unless --quiet).
Control on stdin, one JSON object a line:
  {"mode":"tooMany","opts":{"count":2,"retryAfter":7}}   {"tokenErrors":{"<token>":"NotRegistered"}}
  {"tokenErrors":null}   {"stats":true}   {"reset":true}
Modes: ${MODES.join(', ')}`;

async function main() {
  const o = argsOrExit(USAGE, ARGS, (a) => a.certFile && a.keyFile && a.apiKey);
  const onPush = o.quiet
    ? undefined
    : (r) => {
        const line = {
          time: new Date(r.time).toISOString(), httpVersion: r.httpVersion, method: r.method, path: r.path,
          authorization: r.authorization, contentType: r.contentType, bytes: r.bodyBytes,
          passTypeIdentifier: r.passTypeIdentifier, tokens: r.pushTokens, status: r.status, message: r.message,
          retryAfter: r.retryAfter, mode: r.mode, protocolError: r.protocolError && r.protocolError.message,
        };
        printJson(line);
      };
  const fake = await startFakeWalletPasses({ ...o, onPush });
  trimRecords(fake.pushes);
  process.stdout.write(`listening ${fake.url}\n`);

  serveControl(fake, (cmd) => {
    if (cmd.mode) fake.setMode(cmd.mode, cmd.opts || {});
    if (cmd.tokenErrors === null) fake.clearTokenErrors();
    else if (cmd.tokenErrors) for (const [t, e] of Object.entries(cmd.tokenErrors)) fake.setTokenError(t, e);
    if (cmd.reset) fake.reset();
    if (cmd.stats) printJson({ stats: fake.stats(), mode: fake.mode() });
  });
}

runIfMain(import.meta.url, main);
