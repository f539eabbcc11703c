// A fake Google for Loy's Google Wallet client: the OAuth 2.0 token endpoint (service-account JWT
// bearer flow) and the walletobjects v1 REST API for loyalty classes and objects, stateful and strict.
//
// The token endpoint verifies the assertion's RS256 signature with the service account's public key,
// its issuer, audience, scope and lifetime. Every API call needs a live token it issued. Every class and
// object body is checked against the walletobjects v1 schema in google-schema/walletobjects-v1.json,
// which google-schema/extract.js derives from Google's own typed client (@googleapis/walletobjects), not
// from Loy's code. It keeps Google's rules that Loy must live with: ids under the issuer, 409 on a second
// insert, classes sent as DRAFT/UNDER_REVIEW only, objects only in approved classes, PATCH merging nested
// objects and replacing arrays, at most 10 messages, at most 3 notifying updates or messages per pass per
// 24 h, 20 requests a second. Errors come in Google's envelope. See README.md in this directory for each
// rule and its source. Node built-ins only.
//
//   import { startFakeGoogle, makeServiceAccount } from '../fakes/google.js';
//   const sa = makeServiceAccount();
//   const g = await startFakeGoogle({ serviceAccountPublicKeyPem: sa.publicKeyPem,
//                                      serviceAccountEmail: sa.email, issuerId: '3388000000012345678' });
//   sa.writeKeyFile(file, g.tokenUri);   // LOY_GOOGLE_KEY_FILE=file, LOY_GOOGLE_API_URL=g.url
//   ... g.state.objects, g.changes(id), g.setMode('tooMany', { count: 3 }), g.waitFor(...) ...
//   await g.stop();
//
// Standalone: node tests/fakes/google.js --issuer-id N --make-key-file sa.json [--port P]

import http from 'node:http';
import http2 from 'node:http2';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import https from 'node:https';
import { fileURLToPath } from 'node:url';

import { makeRootKeys, signCallback } from './google_callback_sign.js';
import { makeWaiters } from './lib/waiters.js';
import { okMode, remainingOf, checkCount, spend, releaseHeld, dropHeld, cancelHeld } from './lib/modes.js';
import { listen, keepBody, tell } from './lib/server.js';
import { argsOrExit, printJson, trimRecords, serveControl, runIfMain } from './lib/cli.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The walletobjects v1 schema (google-schema/walletobjects-v1.json, see its "source" key). */
export const SCHEMA = JSON.parse(fs.readFileSync(path.join(HERE, 'google-schema', 'walletobjects-v1.json'), 'utf8'));

export const WALLET_SCOPE = 'https://www.googleapis.com/auth/wallet_object.issuer';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const TOKEN_PATH = '/token';
export const API_PREFIX = '/walletobjects/v1/';
export const KEYS_PATH = '/gp/m/issuer/keys';

export const MODES = Object.freeze([
  'ok', 'unauthenticated', 'notFound', 'alreadyExists', 'tooMany', 'error', 'unavailable', 'stall',
  'tokenError', 'tokenInvalidGrant', 'tokenStall',
]);
const MODE_ALIASES = { 401: 'unauthenticated', 404: 'notFound', 409: 'alreadyExists', 429: 'tooMany', 500: 'error', 503: 'unavailable' };
const TOKEN_MODES = new Set(['tokenError', 'tokenInvalidGrant', 'tokenStall']);

// Google's canonical codes (google.rpc.Code) with the default message Google's front end gives them.
const CANON = {
  400: { status: 'INVALID_ARGUMENT', reason: 'invalid', message: 'Request contains an invalid argument.' },
  401: {
    status: 'UNAUTHENTICATED',
    reason: 'authError',
    message:
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid ' +
      'authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  },
  403: { status: 'PERMISSION_DENIED', reason: 'forbidden', message: 'The caller does not have permission' },
  404: { status: 'NOT_FOUND', reason: 'notFound', message: 'Requested entity was not found.' },
  409: { status: 'ALREADY_EXISTS', reason: 'duplicate', message: 'Requested entity already exists' },
  413: { status: 'INVALID_ARGUMENT', reason: 'invalid', message: 'Request payload size exceeds the limit.' },
  429: { status: 'RESOURCE_EXHAUSTED', reason: 'rateLimitExceeded', message: 'Quota exceeded: more than 20 requests per second.' },
  500: { status: 'INTERNAL', reason: 'backendError', message: 'Internal error encountered.' },
  503: { status: 'UNAVAILABLE', reason: 'backendError', message: 'The service is currently unavailable.' },
};
const MODE_STATUS = { unauthenticated: 401, notFound: 404, alreadyExists: 409, tooMany: 429, error: 500, unavailable: 503 };

const KINDS = { loyaltyClass: 'walletobjects#loyaltyClass', loyaltyObject: 'walletobjects#loyaltyObject' };
const SCHEMA_OF = { loyaltyClass: 'LoyaltyClass', loyaltyObject: 'LoyaltyObject' };

// Fields whose change, under notifyPreference NOTIFY_ON_UPDATE, sends a push (spec §2.6: Google's
// loyalty doc names rewardsTier and loyaltyPoints.balance "and others"; secondaryLoyaltyPoints is the
// tier Loy may show as secondary points).
export const NOTIFY_FIELDS = Object.freeze({
  loyaltyObject: ['loyaltyPoints.balance', 'secondaryLoyaltyPoints.balance'],
  loyaltyClass: ['rewardsTier', 'localizedRewardsTier', 'secondaryRewardsTier', 'localizedSecondaryRewardsTier'],
});

const DAY_MS = 24 * 3600 * 1000;
const ID_SUFFIX_RE = /^[A-Za-z0-9._-]+$/;
const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const ISO8601_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)?$/;
const HEX_COLOR_RE = /^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$/;
const TEXT_MODULE_ID_RE = /^[A-Za-z0-9_-]*$/;

// ---- service accounts and JWTs (also for tests) ---------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** RS256 JWT: base64url(header).base64url(claims).base64url(signature). */
export function signJwt(privateKeyPem, claims, header = { alg: 'RS256', typ: 'JWT' }) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.sign('sha256', Buffer.from(input), privateKeyPem);
  return `${input}.${b64url(sig)}`;
}

/**
 * A test service account: an RSA 2048 key pair and the key file Google would issue for it.
 * keyFile(tokenUri) returns the JSON object; writeKeyFile(file, tokenUri) writes it (mode 0600).
 */
export function makeServiceAccount({ email = 'loy-wallet@loy-test.iam.gserviceaccount.com', projectId = 'loy-test' } = {}) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' });
  const keyId = crypto.randomBytes(20).toString('hex');
  const clientId = String(100000000000000000000n + BigInt(`0x${crypto.randomBytes(7).toString('hex')}`));
  const keyFile = (tokenUri) => ({
    type: 'service_account',
    project_id: projectId,
    private_key_id: keyId,
    private_key: privateKeyPem,
    client_email: email,
    client_id: clientId,
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`,
    universe_domain: 'googleapis.com',
  });
  return {
    email,
    keyId,
    privateKeyPem,
    publicKeyPem,
    keyFile,
    writeKeyFile(file, tokenUri) {
      fs.writeFileSync(file, `${JSON.stringify(keyFile(tokenUri), null, 2)}\n`, { mode: 0o600 });
      return file;
    },
  };
}

// ---- the schema check -----------------------------------------------------------------------------

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const short = (v) => {
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

class BadRequest extends Error {
  constructor(message, field, { status = 400, canon = 'INVALID_ARGUMENT', reason = 'invalid', domain = 'global' } = {}) {
    super(message);
    this.field = field;
    this.httpStatus = status;
    this.canon = canon;
    this.reason = reason;
    this.domain = domain;
  }
}

// Deprecated lowercase spellings (`underReview`) map to their canonical value (`UNDER_REVIEW`).
function canonicalEnum(v) {
  if (typeof v !== 'string' || /^[A-Z0-9_]+$/.test(v)) return v;
  return v.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([a-z])([0-9])/g, '$1_$2').toUpperCase();
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function checkScalar(spec, v, at, warnings) {
  const bad = (t) => new BadRequest(`Invalid value at '${at}' (${t}), ${short(v)}`, at, { reason: 'badRequest' });
  switch (spec.type) {
    case 'string':
      if (spec.format === 'int64') {
        if (typeof v !== 'string' || !/^-?\d+$/.test(v) || BigInt(v) < INT64_MIN || BigInt(v) > INT64_MAX) throw bad('TYPE_INT64');
        return;
      }
      if (typeof v !== 'string') throw bad(spec.enum ? 'TYPE_ENUM' : 'TYPE_STRING');
      if (spec.enum) {
        if (!spec.enum.includes(v)) throw bad('TYPE_ENUM');
        if (spec.enumDeprecated && spec.enumDeprecated.includes(v)) warnings.push(`${at}: deprecated enum spelling ${v}`);
      }
      return;
    case 'integer': {
      const lim = spec.format === 'int32' ? 2 ** 31 : Number.MAX_SAFE_INTEGER;
      if (!Number.isInteger(v) || v < -lim || v >= lim) throw bad(spec.format === 'int32' ? 'TYPE_INT32' : 'TYPE_INT64');
      return;
    }
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('TYPE_DOUBLE');
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('TYPE_BOOL');
      return;
    case 'map':
      if (!isPlainObject(v)) throw bad('TYPE_MESSAGE');
      return;
    case 'any':
      return;
    default:
      throw new Error(`schema: unknown type ${spec.type} at ${at}`);
  }
}

function isUnset(spec, v) {
  if (v === undefined || v === null) return true;
  if (spec.type === 'string' && v === '') return true;
  if (spec.enum && /_UNSPECIFIED$/.test(canonicalEnum(v))) return true;
  if (spec.type === 'array' && Array.isArray(v) && v.length === 0) return true;
  return false;
}

/**
 * Check `value` against schema `name`: known keys, types, enums; unless `partial`, required fields.
 * Throws BadRequest naming the field. `at` is the JSON path used in messages.
 */
export function checkSchema(name, value, at, { partial = false, warnings = [] } = {}) {
  const schema = SCHEMA.schemas[name];
  if (!schema) throw new Error(`schema: no ${name}`);
  if (!isPlainObject(value)) {
    throw new BadRequest(`Invalid value at '${at}' (type.googleapis.com/google.walletobjects.v1.${name}), ${short(value)}`, at, { reason: 'badRequest' });
  }
  for (const [k, v] of Object.entries(value)) {
    const spec = schema.properties[k];
    const here = at ? `${at}.${k}` : k;
    if (!spec) {
      const where = at ? ` at '${at}'` : '';
      throw new BadRequest(`Invalid JSON payload received. Unknown name ${JSON.stringify(k)}${where}: Cannot find field.`, here, { reason: 'badRequest' });
    }
    if (v === null) continue; // proto3 JSON: null is the default value (on PATCH: clear the field)
    if (spec.type === 'array') {
      if (!Array.isArray(v)) {
        throw new BadRequest(`Invalid value at '${here}': a repeated field takes a JSON array, got ${short(v)}`, here, { reason: 'badRequest' });
      }
      v.forEach((item, i) => {
        const ih = `${here}[${i}]`;
        if (item === null) throw new BadRequest(`Invalid value at '${ih}': null in a repeated field`, ih, { reason: 'badRequest' });
        if (spec.items.ref) checkSchema(spec.items.ref, item, ih, { partial: false, warnings });
        else checkScalar(spec.items, item, ih, warnings);
      });
    } else if (spec.ref) {
      // A nested message in a PATCH body merges into the stored one, so it may be partial too.
      checkSchema(spec.ref, v, here, { partial, warnings });
    } else {
      checkScalar(spec, v, here, warnings);
    }
    if (spec.deprecated) warnings.push(`${here}: deprecated field`);
  }
  if (!partial) {
    for (const [k, spec] of Object.entries(schema.properties)) {
      if (spec.required && isUnset(spec, value[k])) {
        const here = at ? `${at}.${k}` : k;
        throw new BadRequest(`Required field ${here} is not set.`, here, { reason: 'required' });
      }
    }
  }
}

// Walk a resource along the schema, calling fn(schemaName, value, at) for every nested message.
function walk(name, value, at, fn) {
  if (!isPlainObject(value)) return;
  fn(name, value, at);
  const schema = SCHEMA.schemas[name];
  for (const [k, v] of Object.entries(value)) {
    const spec = schema.properties[k];
    if (!spec || v == null) continue;
    const here = at ? `${at}.${k}` : k;
    if (spec.type === 'array' && spec.items.ref) v.forEach((item, i) => walk(spec.items.ref, item, `${here}[${i}]`, fn));
    else if (spec.ref) walk(spec.ref, v, here, fn);
  }
}

const has = (o, k) => o[k] !== undefined && o[k] !== null;

/** The rules of the fields' documentation (README "Rules beyond the schema"); throws BadRequest. */
export function checkRules(name, value, at, { maxMessages = 10 } = {}) {
  const fail = (msg, field) => {
    throw new BadRequest(msg, field, { domain: 'walletobjects' });
  };
  walk(name, value, at, (sname, v, here) => {
    switch (sname) {
      case 'Image': {
        const n = ['sourceUri', 'privateImageId'].filter((k) => has(v, k)).length;
        if (n !== 1) fail(`Invalid image at '${here}': exactly one of sourceUri and privateImageId must be set (${n} set).`, here);
        if (has(v, 'sourceUri') && !(typeof v.sourceUri.uri === 'string' && SCHEME_RE.test(v.sourceUri.uri))) {
          fail(`Invalid image URI at '${here}.sourceUri.uri': a URI with a scheme is required.`, `${here}.sourceUri.uri`);
        }
        break;
      }
      case 'ImageUri':
      case 'Uri':
        if (has(v, 'uri') && !SCHEME_RE.test(v.uri)) fail(`Invalid URI at '${here}.uri': URIs must have a scheme (${short(v.uri)}).`, `${here}.uri`);
        break;
      case 'LoyaltyPointsBalance': {
        const set = ['string', 'int', 'double', 'money'].filter((k) => has(v, k));
        if (set.length !== 1) {
          fail(`Invalid balance at '${here}': exactly one of string, int, double, money must be set (${set.length ? set.join(', ') : 'none'} set).`, here);
        }
        break;
      }
      case 'TextModuleData':
        if (has(v, 'id') && !TEXT_MODULE_ID_RE.test(v.id)) fail(`Invalid text module id at '${here}.id': only alphanumerics, '_' and '-' (${short(v.id)}).`, `${here}.id`);
        break;
      case 'MerchantLocation':
        if (has(v, 'latitude') && Math.abs(v.latitude) > 90) fail(`Invalid latitude at '${here}.latitude': ${v.latitude}.`, `${here}.latitude`);
        if (has(v, 'longitude') && Math.abs(v.longitude) > 180) fail(`Invalid longitude at '${here}.longitude': ${v.longitude}.`, `${here}.longitude`);
        break;
      case 'DateTime':
        if (has(v, 'date') && !ISO8601_RE.test(v.date)) fail(`Invalid date at '${here}.date': not an ISO 8601 extended date/time (${short(v.date)}).`, `${here}.date`);
        break;
      case 'LoyaltyClass':
      case 'LoyaltyObject':
        if (has(v, 'hexBackgroundColor') && !HEX_COLOR_RE.test(v.hexBackgroundColor)) {
          fail(`Invalid hexBackgroundColor at '${here}.hexBackgroundColor': ${short(v.hexBackgroundColor)} is not #rrggbb or #rgb.`, `${here}.hexBackgroundColor`);
        }
        if (has(v, 'messages') && v.messages.length > maxMessages) {
          fail(`Too many messages at '${here}.messages': ${v.messages.length}, at most ${maxMessages}.`, `${here}.messages`);
        }
        if (has(v, 'merchantLocations') && v.merchantLocations.length > 10) {
          fail(`Too many merchantLocations at '${here}.merchantLocations': ${v.merchantLocations.length}, at most 10.`, `${here}.merchantLocations`);
        }
        if (has(v, 'valueAddedModuleData') && v.valueAddedModuleData.length > 15) {
          fail(`Too many valueAddedModuleData at '${here}.valueAddedModuleData': ${v.valueAddedModuleData.length}, at most 15.`, `${here}.valueAddedModuleData`);
        }
        break;
      default:
        break;
    }
  });
}

/** PATCH: nested objects merge, arrays and scalars replace, null clears (spec §2.4). */
export function mergePatch(target, patch) {
  const out = clone(target);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isPlainObject(v) && isPlainObject(out[k])) out[k] = mergePatch(out[k], v);
    else out[k] = clone(v);
  }
  return out;
}

function dropNulls(v) {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = dropNulls(x);
  return out;
}

function getPath(o, dotted) {
  return dotted.split('.').reduce((a, k) => (a == null ? undefined : a[k]), o);
}

// ---- the fake -------------------------------------------------------------------------------------

/**
 * Start the fake.
 * @param {object} o
 * @param {string} [o.serviceAccountPublicKeyPem]  the test service account's public key (SPKI PEM)
 * @param {string} [o.serviceAccountEmail]         its client_email (the assertion's iss)
 * @param {string} [o.serviceAccountKeyId]         its private_key_id: a `kid` in the assertion must match
 * @param {string|string[]} [o.issuerId]           issuer id(s) that account may use
 * @param {{email, publicKeyPem, issuerIds, keyId?}[]} [o.accounts]  several accounts (businesses)
 * @param {number} [o.port=0]
 * @param {string} [o.host='127.0.0.1']
 * @param {{certFile, keyFile}} [o.tls]            serve HTTPS (HTTP/2 + HTTP/1.1) with this certificate
 * @param {number} [o.expiresIn=3599]              seconds an access token lives
 * @param {number} [o.rateLimit=20]                API requests in any 1 s window; more get 429 (0: off)
 * @param {number} [o.notifyBudget=3]              notifying updates or messages per pass per 24 h
 * @param {number} [o.maxMessages=10]              messages per class or object; more is 400
 * @param {number} [o.maxBody=1048576]             bytes; more is 413
 * @param {string} [o.audience]                    the assertion's required aud (default: tokenUri)
 * @param {object} [o.callbackRoot]                a makeRootKeys() root that signs callbacks (default: a new one)
 * @param {object} [o.callbackKeys]                the document GET /gp/m/issuer/keys serves (default: the root's)
 * @param {(rec:object)=>void} [o.onRequest]       called when a request has been answered
 */
export async function startFakeGoogle({
  serviceAccountPublicKeyPem,
  serviceAccountEmail,
  serviceAccountKeyId = null,
  issuerId,
  accounts: accountList,
  port = 0,
  host = '127.0.0.1',
  tls,
  expiresIn = 3599,
  rateLimit = 20,
  notifyBudget = 3,
  maxMessages = 10,
  maxBody = 1 << 20,
  audience,
  callbackRoot = makeRootKeys(),
  callbackKeys = JSON.parse(callbackRoot.keysJson),
  onRequest,
} = {}) {
  const accounts = new Map();
  const addAccount = ({ email, publicKeyPem, issuerIds, keyId = null }) => {
    if (typeof email !== 'string' || !email) throw new Error('startFakeGoogle: an account needs its email');
    if (!publicKeyPem) throw new Error(`startFakeGoogle: account ${email} needs publicKeyPem`);
    const ids = (Array.isArray(issuerIds) ? issuerIds : [issuerIds]).map(String);
    if (!ids.length || ids.some((x) => !/^\d+$/.test(x))) throw new Error(`startFakeGoogle: account ${email} needs numeric issuer ids`);
    accounts.set(email, { email, key: crypto.createPublicKey(publicKeyPem), issuerIds: new Set(ids), keyId });
  };
  if (serviceAccountPublicKeyPem || serviceAccountEmail || issuerId) {
    addAccount({ email: serviceAccountEmail, publicKeyPem: serviceAccountPublicKeyPem, issuerIds: issuerId, keyId: serviceAccountKeyId });
  }
  for (const a of accountList || []) addAccount(a);
  if (!accounts.size) throw new Error('startFakeGoogle: serviceAccountPublicKeyPem, serviceAccountEmail and issuerId (or accounts) are required');

  const requests = [];
  const callbacks = []; // deliveries: { time, url, body, message, status, response, error }
  const held = new Set(); // stalled { rec, res, slot, evaluate }
  const { notify, waitFor } = makeWaiters('fake Google', () => [requests, api]);
  const sockets = new Set();
  const state = {
    classes: new Map(), // id → stored LoyaltyClass
    objects: new Map(), // id → stored LoyaltyObject
    tokens: new Map(), // access token → { email, scope, issuedAt, expiresAt, calls, revoked }
    changes: new Map(), // resource id → [{ seq, time, kind, op, notifyRequested, notified, notifyFields, messageType, resource }]
    notifications: new Map(), // resource id → [times of notifying changes]
  };
  let clockOffset = 0;
  let seq = 0;
  let modes = { api: okMode(), token: okMode() };
  let st = freshStats();
  let apiArrivals = []; // times of API requests in the last second
  let stopping = false;

  function freshStats() {
    return {
      requests: 0, tokenRequests: 0, tokensIssued: 0, apiCalls: 0, rateLimited: 0, peakPerSecond: 0,
      connections: 0, peakConnections: 0, inFlight: 0, peakInFlight: 0,
    };
  }
  const now = () => Date.now() + clockOffset;

  const handler = (req, res) => onHttp(req, res);
  const server = tls
    ? http2.createSecureServer({ key: fs.readFileSync(tls.keyFile), cert: fs.readFileSync(tls.certFile), allowHTTP1: true, minVersion: 'TLSv1.2' }, handler)
    : http.createServer(handler);
  server.on(tls ? 'secureConnection' : 'connection', (sock) => {
    st.connections += 1;
    sockets.add(sock);
    st.peakConnections = Math.max(st.peakConnections, sockets.size);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('session', (session) => session.on('error', () => {}));

  function onHttp(req, res) {
    st.requests += 1;
    st.inFlight += 1;
    st.peakInFlight = Math.max(st.peakInFlight, st.inFlight);
    const u = new URL(req.url, 'http://x');
    const rec = {
      seq: ++seq,
      time: Date.now(),
      httpVersion: req.httpVersion,
      method: req.method,
      url: req.url,
      path: u.pathname,
      query: [...u.searchParams],
      headers: { ...req.headers },
      body: '',
      bodyBytes: 0,
      json: null,
      kind: null, // 'token' | 'api' | 'keys' | 'other'
      op: null, // e.g. 'loyaltyObject.patch'
      resourceId: null,
      token: null,
      claims: null,
      protocolError: null, // { status, message }: what the checks found, whatever the mode
      mode: null,
      rateLimited: false,
      notified: false,
      warnings: [],
      status: null,
      response: null,
      answeredAt: null,
      stalled: false,
      cancelled: false,
    };
    requests.push(rec);
    if (rec.path.startsWith(API_PREFIX)) {
      // the rate limit counts API requests by arrival, in arrival order
      st.apiCalls += 1;
      apiArrivals = apiArrivals.filter((x) => rec.time - x < 1000);
      apiArrivals.push(rec.time);
      st.peakPerSecond = Math.max(st.peakPerSecond, apiArrivals.length);
      rec.overRate = rateLimit > 0 && apiArrivals.length > rateLimit;
    }
    notify();
    const chunks = keepBody(req, rec, maxBody);
    req.on('error', () => {});
    let done = false;
    const finishOnce = () => {
      if (!done) {
        done = true;
        st.inFlight -= 1;
      }
    };
    res.on('close', () => {
      finishOnce();
      if (rec.answeredAt == null) {
        rec.cancelled = true;
        dropHeld(held, rec);
        notify();
      }
    });
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      rec.body = buf.subarray(0, Math.min(buf.length, maxBody)).toString('utf8');
      route(rec, buf, res);
    });
  }

  function route(rec, buf, res) {
    if (rec.path === TOKEN_PATH) {
      rec.kind = 'token';
      st.tokenRequests += 1;
      dispatch(rec, res, 'token', () => evalToken(rec, buf));
    } else if (rec.path.startsWith(API_PREFIX)) {
      rec.kind = 'api';
      dispatch(rec, res, 'api', () => evalApi(rec, buf));
    } else if (rec.path === KEYS_PATH && rec.method === 'GET') {
      rec.kind = 'keys';
      finish(rec, res, 200, clone(callbackKeys), { 'cache-control': 'public, max-age=3600' });
    } else {
      rec.kind = 'other';
      finish(rec, res, 404, apiError(404, `No route for ${rec.method} ${rec.path}`));
    }
  }

  function modeMatches(m, rec) {
    if (m.opts.path && !rec.path.startsWith(m.opts.path)) return false;
    if (m.opts.method && m.opts.method.toUpperCase() !== rec.method) return false;
    return true;
  }

  function consume(slot) {
    if (spend(modes[slot])) modes[slot] = okMode();
  }

  // Answer under the slot's mode, else the rate limit, else the evaluation (applied only then).
  function dispatch(rec, res, slot, evaluate) {
    if (res.destroyed || rec.cancelled) return;
    const m = modes[slot];
    const active = m.name !== 'ok' && modeMatches(m, rec);
    rec.mode = active ? m.name : 'ok';
    if (active && (m.name === 'stall' || m.name === 'tokenStall')) {
      rec.stalled = true;
      consume(slot);
      held.add({ rec, res, slot, evaluate });
      notify();
      return;
    }
    const r = evaluate();
    rec.protocolError = r.status >= 400 ? { status: r.status, message: errorMessage(r.body) } : null;
    if (active) {
      consume(slot);
      answerMode(rec, res, m);
      return;
    }
    if (slot === 'api' && rec.overRate) {
      rec.rateLimited = true;
      st.rateLimited += 1;
      finish(rec, res, 429, apiError(429));
      return;
    }
    if (r.apply) r.apply();
    finish(rec, res, r.status, r.body, r.headers);
  }

  function errorMessage(body) {
    if (!body) return null;
    if (body.error && typeof body.error === 'object') return body.error.message;
    return body.error_description || body.error || null;
  }

  function answerMode(rec, res, m) {
    if (m.name === 'tokenError') {
      finish(rec, res, 500, { error: 'internal_failure', error_description: m.opts.message || 'Backend Error' });
    } else if (m.name === 'tokenInvalidGrant') {
      finish(rec, res, 400, { error: 'invalid_grant', error_description: m.opts.message || 'Invalid grant: account not found' });
    } else {
      const status = MODE_STATUS[m.name];
      const headers = m.opts.retryAfter != null ? { 'retry-after': String(m.opts.retryAfter) } : {};
      finish(rec, res, status, apiError(status, m.opts.message), headers);
    }
  }

  function apiError(status, message, { field, reason, domain = 'global', canon } = {}) {
    const c = CANON[status];
    const msg = message || c.message;
    const err = { message: msg, domain, reason: reason || c.reason };
    if (status === 401) Object.assign(err, { message: 'Invalid Credentials', location: 'Authorization', locationType: 'header' });
    if (field) Object.assign(err, { location: field, locationType: 'other' });
    return { error: { code: status, message: msg, errors: [err], status: canon || c.status } };
  }

  function badRequestBody(e) {
    return apiError(e.httpStatus, e.message, { field: e.field, reason: e.reason, domain: e.domain, canon: e.canon });
  }

  function finish(rec, res, status, body, headers = {}) {
    rec.status = status;
    rec.response = body;
    rec.answeredAt = Date.now();
    const text = body == null ? '' : JSON.stringify(body);
    try {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(text);
    } catch {
      // the client went away meanwhile; the record keeps what we meant to answer
    }
    tell(onRequest, rec);
    notify();
  }

  // ---- POST /token ----

  function evalToken(rec, buf) {
    const grantErr = (error, description) => ({ status: 400, body: { error, error_description: description } });
    if (rec.method !== 'POST') return { status: 405, body: { error: 'invalid_request', error_description: `Method ${rec.method} not allowed: POST only` }, headers: { allow: 'POST' } };
    const ct = rec.headers['content-type'] || '';
    if (!/^application\/x-www-form-urlencoded\s*(;.*)?$/i.test(ct)) {
      return grantErr('invalid_request', `Content-Type must be application/x-www-form-urlencoded (got ${ct || 'none'})`);
    }
    const form = new URLSearchParams(buf.toString('utf8'));
    const grantType = form.get('grant_type');
    if (grantType !== JWT_BEARER) return grantErr('unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
    const assertion = form.get('assertion');
    if (!assertion) return grantErr('invalid_request', 'Missing required parameter: assertion');
    const parts = assertion.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
      return grantErr('invalid_grant', 'Invalid JWT: the assertion is not three base64url parts without padding');
    }
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return grantErr('invalid_grant', 'Invalid JWT: header or claims are not JSON');
    }
    if (!isPlainObject(header) || !isPlainObject(claims)) return grantErr('invalid_grant', 'Invalid JWT: header or claims are not JSON objects');
    rec.claims = claims;
    rec.jwtHeader = header;
    if (header.alg !== 'RS256') return grantErr('invalid_grant', `Invalid JWT: alg ${JSON.stringify(header.alg)} is not RS256`);
    if (header.typ !== undefined && header.typ !== 'JWT') return grantErr('invalid_grant', `Invalid JWT: typ ${JSON.stringify(header.typ)} is not JWT`);
    const account = typeof claims.iss === 'string' ? accounts.get(claims.iss) : undefined;
    if (!account) return grantErr('invalid_grant', 'Invalid grant: account not found');
    if (header.kid !== undefined && account.keyId && header.kid !== account.keyId) return grantErr('invalid_grant', 'Invalid JWT Signature.');
    const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), account.key, Buffer.from(parts[2], 'base64url'));
    if (!ok) return grantErr('invalid_grant', 'Invalid JWT Signature.');
    const aud = audience || tokenUri;
    if (claims.aud !== aud) return grantErr('invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${aud}`);
    const t = Math.floor(Date.now() / 1000);
    const { iat, exp } = claims;
    if (!Number.isInteger(iat) || !Number.isInteger(exp) || Math.abs(iat - t) > 300 || exp <= t || exp <= iat || exp - iat > 3600) {
      return grantErr(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (!scopes.includes(WALLET_SCOPE)) return grantErr('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    const token = `ya29.fake-${crypto.randomBytes(24).toString('base64url')}`;
    return {
      status: 200,
      body: { access_token: token, expires_in: expiresIn, token_type: 'Bearer' },
      headers: { 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate', pragma: 'no-cache' },
      apply() {
        st.tokensIssued += 1;
        rec.issuedToken = token;
        state.tokens.set(token, { email: account.email, scope: claims.scope, issuedAt: now(), expiresAt: now() + expiresIn * 1000, calls: 0, revoked: false });
      },
    };
  }

  // ---- /walletobjects/v1 ----

  function matchMethod(rec) {
    const rest = rec.path.slice(API_PREFIX.length);
    const m = /^(loyaltyClass|loyaltyObject)(?:\/([^/]+)(\/addMessage)?)?$/.exec(rest);
    if (!m) return null;
    const [, resource, rawId, add] = m;
    let name;
    if (add) name = 'addmessage';
    else if (rawId) name = { GET: 'get', PUT: 'update', PATCH: 'patch' }[rec.method];
    else name = { POST: 'insert', GET: 'list' }[rec.method];
    if (!name) return null;
    const method = SCHEMA.methods[`${resource}.${name}`];
    if (!method || method.httpMethod !== rec.method) return null;
    let id = null;
    if (rawId) {
      try {
        id = decodeURIComponent(rawId);
      } catch {
        id = rawId;
      }
    }
    return { resource, name, method, id };
  }

  function authenticate(rec) {
    const h = rec.headers.authorization;
    const m = typeof h === 'string' ? /^Bearer ([^\s]+)$/i.exec(h) : null;
    if (!m) return null;
    const t = state.tokens.get(m[1]);
    if (!t || t.revoked || t.expiresAt <= now()) return null;
    return { token: m[1], info: t };
  }

  function checkId(id, account, what) {
    if (typeof id !== 'string' || !id) throw new BadRequest(`Invalid resource ID: ${id}`, what, { reason: 'invalidResource', domain: 'walletobjects' });
    const dot = id.indexOf('.');
    const issuer = dot > 0 ? id.slice(0, dot) : '';
    const suffix = dot > 0 ? id.slice(dot + 1) : '';
    if (!/^\d+$/.test(issuer) || !ID_SUFFIX_RE.test(suffix)) {
      throw new BadRequest(`Invalid resource ID: ${id}`, what, { reason: 'invalidResource', domain: 'walletobjects' });
    }
    if (!account.issuerIds.has(issuer)) {
      throw new BadRequest(`The caller does not have permission: issuer ${issuer} has not authorized ${account.email}.`, what, {
        status: 403, canon: 'PERMISSION_DENIED', reason: 'forbidden',
      });
    }
    return issuer;
  }

  const notFound = (what, id) => new BadRequest(`${what} ${id} not found.`, 'resourceId', { status: 404, canon: 'NOT_FOUND', reason: 'resourceNotFound', domain: 'walletobjects' });
  const precondition = (msg, field) => new BadRequest(msg, field, { canon: 'FAILED_PRECONDITION', reason: 'failedPrecondition', domain: 'walletobjects' });

  function evalApi(rec, buf) {
    try {
      return evalApiOrThrow(rec, buf);
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      return { status: e.httpStatus, body: badRequestBody(e) };
    }
  }

  function evalApiOrThrow(rec, buf) {
    const route = matchMethod(rec);
    if (!route) return { status: 404, body: apiError(404, `Method not found: ${rec.method} ${rec.path}`) };
    const { resource, name, method, id } = route;
    rec.op = `${resource}.${name}`;
    rec.resourceId = id;
    const auth = authenticate(rec);
    if (!auth) return { status: 401, body: apiError(401) };
    rec.token = auth.token;
    auth.info.calls += 1;
    const account = accounts.get(auth.info.email);

    // Query parameters: the method's own and Google's standard ones; each at most once.
    const seen = new Set();
    for (const [k, v] of rec.query) {
      if (seen.has(k)) throw new BadRequest(`Invalid query: parameter ${k} given more than once.`, k, { reason: 'badRequest' });
      seen.add(k);
      if (!(k in method.query) && !SCHEMA.standardParameters.includes(k)) {
        throw new BadRequest(`Invalid JSON payload received. Unknown name ${JSON.stringify(k)}: Cannot bind query parameter. Field '${k}' could not be found in request message.`, k, { reason: 'badRequest' });
      }
      if (k === 'alt' && v !== 'json') throw new BadRequest(`Invalid value at 'alt' (TYPE_ENUM), ${JSON.stringify(v)}`, k, { reason: 'badRequest' });
      if (method.query[k] === 'number' && !/^\d+$/.test(v)) throw new BadRequest(`Invalid value at '${k}' (TYPE_INT32), ${JSON.stringify(v)}`, k, { reason: 'badRequest' });
    }
    const q = Object.fromEntries(rec.query);

    if (id !== null) checkId(id, account, 'resourceId');

    let body = null;
    if (method.requestBody) {
      const ct = rec.headers['content-type'] || '';
      if (!/^application\/json\s*(;.*)?$/i.test(ct)) throw new BadRequest(`Invalid JSON payload received. Content-Type must be application/json (got ${ct || 'none'}).`, null, { reason: 'badRequest' });
      if (rec.bodyBytes > maxBody) return { status: 413, body: apiError(413) };
      try {
        body = JSON.parse(buf.toString('utf8'));
      } catch (e) {
        throw new BadRequest(`Invalid JSON payload received. ${e.message}`, null, { reason: 'parseError' });
      }
      rec.json = body;
      if (!isPlainObject(body)) throw new BadRequest(`Invalid JSON payload received. Expected an object, got ${short(body)}.`, null, { reason: 'badRequest' });
    }

    const store = resource === 'loyaltyClass' ? state.classes : state.objects;
    const sname = SCHEMA_OF[resource];
    const what = resource === 'loyaltyClass' ? 'Wallet Object Class' : 'Wallet Object';
    const warnings = rec.warnings;

    switch (name) {
      case 'get': {
        const cur = store.get(id);
        if (!cur) throw notFound(what, id);
        return { status: 200, body: present(resource, cur, true) };
      }
      case 'list':
        return list(resource, q, account);
      case 'insert': {
        checkSchema(sname, body, 'resource', { warnings });
        const newId = body.id;
        checkId(newId, account, 'resource.id');
        rec.resourceId = newId;
        const next = dropNulls(body);
        delete next.notifyPreference;
        checkRules(sname, next, 'resource', { maxMessages });
        if (resource === 'loyaltyClass') reviewOnWrite(null, next, warnings, next.reviewStatus);
        else checkObjectClass(next, account);
        if (store.has(newId)) {
          throw new BadRequest(`${what} ${newId} already exists.`, 'resource.id', { status: 409, canon: 'ALREADY_EXISTS', reason: 'duplicate', domain: 'walletobjects' });
        }
        next.kind = KINDS[resource];
        return commit(rec, resource, newId, next, 'insert', { notifyRequested: false, notifying: false });
      }
      case 'update':
      case 'patch': {
        const cur = store.get(id);
        const partial = name === 'patch';
        checkSchema(sname, body, 'resource', { partial, warnings });
        if (has(body, 'id') && body.id !== id) throw new BadRequest(`Invalid resource ID: resource.id ${body.id} differs from the ID in the URL, ${id}.`, 'resource.id', { reason: 'invalidResource', domain: 'walletobjects' });
        if (!cur) throw notFound(what, id);
        const notifyRequested = canonicalEnum(body.notifyPreference) === 'NOTIFY_ON_UPDATE';
        const patchBody = clone(body);
        delete patchBody.notifyPreference;
        let next = partial ? dropNulls(mergePatch(cur, patchBody)) : dropNulls(patchBody);
        if (!partial) next.id = id;
        if (partial) checkSchema(sname, next, 'resource', { warnings: [] }); // the merged result is whole
        checkRules(sname, next, 'resource', { maxMessages });
        if (resource === 'loyaltyClass') reviewOnWrite(cur, next, warnings, partial ? body.reviewStatus : next.reviewStatus);
        else if (next.classId !== cur.classId) checkObjectClass(next, account);
        next.kind = KINDS[resource];
        const changed = NOTIFY_FIELDS[resource].filter((f) => JSON.stringify(getPath(cur, f)) !== JSON.stringify(getPath(next, f)));
        const notifying = notifyRequested && changed.length > 0;
        if (notifying) checkBudget(id);
        return commit(rec, resource, id, next, name, { notifyRequested, notifying, notifyFields: changed });
      }
      case 'addmessage': {
        checkSchema('AddMessageRequest', body, '', { warnings });
        if (!isPlainObject(body.message)) throw new BadRequest('Required field message is not set.', 'message', { reason: 'required' });
        const msg = dropNulls(body.message);
        if (!has(msg, 'header') && !has(msg, 'body') && !has(msg, 'localizedHeader') && !has(msg, 'localizedBody')) {
          throw new BadRequest('Invalid message: a message needs a header or a body.', 'message', { domain: 'walletobjects' });
        }
        const cur = store.get(id);
        if (!cur) throw notFound(what, id);
        const next = clone(cur);
        next.messages = [...(next.messages || []), msg];
        checkRules(sname, next, 'resource', { maxMessages });
        const messageType = canonicalEnum(msg.messageType) || null;
        const notifying = messageType === 'TEXT_AND_NOTIFY';
        if (notifying) checkBudget(id);
        const r = commit(rec, resource, id, next, 'addMessage', { notifyRequested: notifying, notifying, messageType });
        return { ...r, body: { resource: r.body } };
      }
      default:
        throw new Error(`unhandled method ${name}`);
    }
  }

  // Classes: only DRAFT or UNDER_REVIEW may be sent; never back to DRAFT; UNDER_REVIEW becomes APPROVED.
  // `sent`: the reviewStatus in the request body (undefined when a PATCH leaves it out).
  function reviewOnWrite(cur, next, warnings, sent) {
    const given = canonicalEnum(sent);
    if (given !== undefined && given !== null) {
      if (given !== 'DRAFT' && given !== 'UNDER_REVIEW') {
        throw new BadRequest(`Invalid reviewStatus ${sent}: a class may only be sent as DRAFT or UNDER_REVIEW.`, 'resource.reviewStatus', { domain: 'walletobjects' });
      }
      if (given === 'DRAFT' && cur && canonicalEnum(cur.reviewStatus) !== 'DRAFT') {
        throw new BadRequest(`Invalid reviewStatus DRAFT: class ${cur.id} is ${cur.reviewStatus} and may not go back to DRAFT.`, 'resource.reviewStatus', { domain: 'walletobjects' });
      }
      next.reviewStatus = given === 'UNDER_REVIEW' ? 'APPROVED' : 'DRAFT';
    } else if (cur) {
      warnings.push('class update without reviewStatus: Google asks for UNDER_REVIEW on every update of an approved class');
      next.reviewStatus = cur.reviewStatus;
    }
  }

  function checkObjectClass(obj, account) {
    checkId(obj.classId, account, 'resource.classId');
    const cls = state.classes.get(obj.classId);
    if (!cls) throw notFound('Wallet Object Class', obj.classId);
    if (cls.reviewStatus !== 'APPROVED') {
      throw precondition(`Wallet Object Class ${obj.classId} is ${cls.reviewStatus}: objects need an approved class (send the class as UNDER_REVIEW).`, 'resource.classId');
    }
  }

  function checkBudget(id) {
    const recent = (state.notifications.get(id) || []).filter((t) => now() - t < DAY_MS);
    if (recent.length >= notifyBudget) {
      throw new BadRequest(
        `QuotaExceededException: ${id} already had ${recent.length} notifications in the last 24 hours (at most ${notifyBudget}); send it without notification (TEXT, or no notifyPreference).`,
        'notifyPreference',
        { status: 429, canon: 'RESOURCE_EXHAUSTED', reason: 'quotaExceeded', domain: 'walletobjects' },
      );
    }
  }

  function commit(rec, resource, id, next, op, { notifyRequested, notifying, notifyFields = [], messageType = null }) {
    const store = resource === 'loyaltyClass' ? state.classes : state.objects;
    return {
      status: 200,
      body: present(resource, next, false),
      apply() {
        store.set(id, next);
        if (notifying) {
          const times = (state.notifications.get(id) || []).filter((t) => now() - t < DAY_MS);
          times.push(now());
          state.notifications.set(id, times);
        }
        rec.notified = notifying;
        if (!state.changes.has(id)) state.changes.set(id, []);
        state.changes.get(id).push({
          seq: rec.seq, time: now(), kind: resource, op, notifyRequested, notified: notifying, notifyFields, messageType,
          resource: clone(next),
        });
      },
    };
  }

  function present(resource, stored, isGet) {
    const out = clone(stored);
    if (resource === 'loyaltyObject' && isGet && state.classes.has(stored.classId)) out.classReference = clone(state.classes.get(stored.classId));
    return out;
  }

  function list(resource, q, account) {
    let items;
    if (resource === 'loyaltyClass') {
      if (!q.issuerId) throw new BadRequest('Required parameter issuerId is not set.', 'issuerId', { reason: 'required' });
      if (!account.issuerIds.has(q.issuerId)) {
        throw new BadRequest(`The caller does not have permission: issuer ${q.issuerId} has not authorized ${account.email}.`, 'issuerId', { status: 403, canon: 'PERMISSION_DENIED', reason: 'forbidden' });
      }
      items = [...state.classes.values()].filter((c) => c.id.startsWith(`${q.issuerId}.`));
    } else {
      if (!q.classId) throw new BadRequest('Required parameter classId is not set.', 'classId', { reason: 'required' });
      checkId(q.classId, account, 'classId');
      if (!state.classes.has(q.classId)) throw notFound('Wallet Object Class', q.classId);
      items = [...state.objects.values()].filter((o) => o.classId === q.classId);
    }
    const start = q.token ? Number(q.token) : 0;
    if (!Number.isInteger(start) || start < 0 || start > items.length) throw new BadRequest(`Invalid page token ${q.token}.`, 'token', { reason: 'invalid' });
    const max = q.maxResults ? Number(q.maxResults) : items.length;
    const page = items.slice(start, start + (max || items.length));
    const pagination = { kind: 'walletobjects#pagination', resultsPerPage: page.length };
    if (start + page.length < items.length) pagination.nextPageToken = String(start + page.length);
    return { status: 200, body: { resources: page.map((r) => present(resource, r, true)), pagination } };
  }

  // ---- control ----

  /**
   * Answer the next `opts.count` matching requests (all, without count) with a mode. API modes apply to
   * /walletobjects/v1 (opts.path: a path prefix, opts.method: one method), token modes to /token. Each
   * kind has its own slot; 'ok' clears both. Stalled requests of a slot are released (and answered
   * under the new mode) when that slot changes.
   */
  function setMode(nameOrStatus, opts = {}) {
    const name = MODE_ALIASES[nameOrStatus] || nameOrStatus;
    if (!MODES.includes(name)) throw new Error(`unknown mode ${nameOrStatus}; one of ${MODES.join(', ')} (or 401, 404, 409, 429, 500, 503)`);
    checkCount(opts.count);
    const m = { name, opts: { ...opts }, remaining: remainingOf(opts.count) };
    const slots = name === 'ok' ? ['api', 'token'] : [TOKEN_MODES.has(name) ? 'token' : 'api'];
    for (const s of slots) modes[s] = name === 'ok' ? okMode() : m;
    releaseHeld(held, ({ rec, res, slot, evaluate }) => dispatch(rec, res, slot, evaluate), (h) => slots.includes(h.slot));
  }

  const { port: actualPort, urlHost } = await listen(server, port, host);
  const origin = `${tls ? 'https' : 'http'}://${urlHost}:${actualPort}`;
  const tokenUri = origin + TOKEN_PATH;

  // POST one signed save/delete callback, as Google does to callbackOptions.url (spec §2.8).
  function postCallback(url, body, ca) {
    return new Promise((resolve) => {
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : http;
      const req = lib.request(u, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) },
        ca,
        timeout: 10000,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, response: Buffer.concat(chunks).toString('utf8'), error: null }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => resolve({ status: null, response: null, error: e.message }));
      req.end(body);
    });
  }

  /**
   * Deliver a save/delete callback for an object, signed with callbackRoot (google_callback_sign.js),
   * `times` times with the same nonce (Google delivers at least once). Resolves with the deliveries.
   */
  async function deliverCallback({ url, classId, objectId, eventType = 'save', nonce = crypto.randomUUID(), times = 1, ca, ...signOpts }) {
    if (!url || !classId || !objectId) throw new Error('deliverCallback: url, classId and objectId are required');
    if (eventType !== 'save' && eventType !== 'del') throw new Error(`deliverCallback: eventType is save or del (got ${eventType})`);
    const issuer = signOpts.issuerId || classId.slice(0, classId.indexOf('.'));
    const body = signCallback({ root: callbackRoot, issuerId: issuer, classId, objectId, eventType, nonce, ...signOpts });
    const out = [];
    for (let i = 0; i < times; i++) {
      const r = await postCallback(url, body, ca);
      const d = { time: Date.now(), url, classId, objectId, eventType, nonce, body, ...r };
      callbacks.push(d);
      out.push(d);
      notify();
    }
    return out;
  }

  const api = {
    url: origin,
    tokenUri,
    keysUrl: origin + KEYS_PATH,
    port: actualPort,
    requests,
    callbacks,
    callbackRoot,
    deliverCallback,
    state,
    setMode,
    mode: () => ({ api: { ...modes.api, opts: { ...modes.api.opts } }, token: { ...modes.token, opts: { ...modes.token.opts } } }),
    waitFor,
    /** The API calls (not token requests) answered so far, optionally of one op ('loyaltyObject.patch'). */
    calls: (op) => requests.filter((r) => r.kind === 'api' && r.status != null && (!op || r.op === op)),
    getClass: (id) => clone(state.classes.get(id)),
    getObject: (id) => clone(state.objects.get(id)),
    /** Every accepted change of a class or object, in order: { op, notified, notifyFields, messageType, resource, ... }. */
    changes: (id) => (state.changes.get(id) || []).map(clone),
    /** Notifying changes of a pass within the last 24 h (fake clock). */
    notificationsInWindow: (id) => (state.notifications.get(id) || []).filter((t) => now() - t < DAY_MS).length,
    /** Put resources in place as if inserted earlier (unchecked; a class is APPROVED unless DRAFT or REJECTED). */
    seed({ classes = [], objects = [] } = {}) {
      for (const c of classes) {
        const rs = canonicalEnum(c.reviewStatus);
        state.classes.set(c.id, { ...clone(c), reviewStatus: rs === 'DRAFT' || rs === 'REJECTED' ? rs : 'APPROVED', kind: KINDS.loyaltyClass });
      }
      for (const o of objects) state.objects.set(o.id, { ...clone(o), kind: KINDS.loyaltyObject });
      notify();
    },
    /** Forget a class or object, as if Google had lost it (there is no DELETE in the API). */
    forget(id) {
      state.classes.delete(id);
      state.objects.delete(id);
    },
    /** Move the fake's clock (token lifetimes, the 24 h notification window); assertions use real time. */
    advanceClock(ms) {
      clockOffset += ms;
    },
    now,
    /** Every issued token stops working (401), as after a key rotation. */
    revokeTokens() {
      for (const t of state.tokens.values()) t.revoked = true;
    },
    stats: () => ({
      ...st,
      held: held.size,
      openConnections: sockets.size,
      liveTokens: [...state.tokens.values()].filter((t) => !t.revoked && t.expiresAt > now()).length,
      callsPerToken: [...state.tokens.values()].map((t) => t.calls),
    }),
    /** Empties the records (in place) and restarts the counters; with { state: true } also the state. */
    reset({ state: all = false } = {}) {
      requests.length = 0;
      st = freshStats();
      apiArrivals = [];
      if (all) {
        for (const m of Object.values(state)) m.clear();
        clockOffset = 0;
      }
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      cancelHeld(held, ({ rec, res }) => {
        rec.status = null;
        rec.response = 'stopped';
        res.stream ? res.stream.close(http2.constants.NGHTTP2_CANCEL) : res.destroy();
      });
      const closed = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  return api;
}

// ---- command line ----------------------------------------------------------------------------

const ARGS = {
  values: {
    '--issuer-id': (o, v) => o.issuerIds.push(v),
    '--key-file': 'keyFile',
    '--make-key-file': 'makeKeyFile',
    '--public-key': 'publicKey',
    '--email': 'email',
    '--port': ['port', Number],
    '--host': 'host',
    '--tls-cert': 'tlsCert',
    '--tls-key': 'tlsKey',
    '--rate-limit': ['rateLimit', Number],
    '--expires-in': ['expiresIn', Number],
    '--notify-budget': ['notifyBudget', Number],
  },
  flags: { '--quiet': { quiet: true } },
};

const USAGE = `usage: node tests/fakes/google.js --issuer-id N (--key-file SA.json | --make-key-file OUT.json | --public-key PEM --email E)
        [--port 0] [--host 127.0.0.1] [--tls-cert PEM --tls-key PEM] [--rate-limit 20] [--expires-in 3599]
        [--notify-budget 3] [--quiet]
--key-file: a service-account key file (its client_email and the public half of its private_key);
--make-key-file: make a new account and write its key file, token_uri pointing at this fake.
Prints "listening URL" and "token_uri URL", then one JSON line per answered request (unless --quiet).
Control on stdin, one JSON object a line:
  {"mode":"tooMany","opts":{"count":3}}  {"mode":"stall","opts":{"path":"/walletobjects/v1/loyaltyObject"}}
  {"mode":"tokenError","opts":{"count":2}}  {"mode":"ok"}  {"advanceClock":86400000}  {"revokeTokens":true}
  {"stats":true}  {"reset":true}  {"dump":"<class or object id>"}  {"changes":"<id>"}
Modes: ${MODES.join(', ')}`;

async function main() {
  const haveKey = (a) => a.keyFile || a.makeKeyFile || (a.publicKey && a.email);
  const o = argsOrExit(USAGE, ARGS, (a) => a.issuerIds.length && haveKey(a), { issuerIds: [] });
  let sa = null;
  let email = o.email;
  let publicKeyPem = o.publicKey ? fs.readFileSync(o.publicKey, 'utf8') : null;
  if (o.keyFile) {
    const kf = JSON.parse(fs.readFileSync(o.keyFile, 'utf8'));
    email = kf.client_email;
    publicKeyPem = crypto.createPublicKey(kf.private_key).export({ type: 'spki', format: 'pem' });
  } else if (o.makeKeyFile) {
    sa = makeServiceAccount({ email: o.email });
    email = sa.email;
    publicKeyPem = sa.publicKeyPem;
  }
  const onRequest = o.quiet
    ? undefined
    : (r) => {
        const line = {
          time: new Date(r.time).toISOString(), method: r.method, path: r.path, kind: r.kind, op: r.op, id: r.resourceId,
          status: r.status, mode: r.mode, notified: r.notified || undefined, rateLimited: r.rateLimited || undefined,
          error: r.status >= 400 ? (r.response && r.response.error && (r.response.error.message || r.response.error)) : undefined,
          protocolError: r.protocolError && r.mode !== 'ok' ? r.protocolError.message : undefined,
          warnings: r.warnings.length ? r.warnings : undefined,
        };
        printJson(line);
      };
  const fake = await startFakeGoogle({
    serviceAccountPublicKeyPem: publicKeyPem,
    serviceAccountEmail: email,
    issuerId: o.issuerIds,
    port: o.port,
    host: o.host,
    tls: o.tlsCert ? { certFile: o.tlsCert, keyFile: o.tlsKey } : undefined,
    rateLimit: o.rateLimit,
    expiresIn: o.expiresIn,
    notifyBudget: o.notifyBudget,
    onRequest,
  });
  if (sa) sa.writeKeyFile(o.makeKeyFile, fake.tokenUri);
  trimRecords(fake.requests);
  process.stdout.write(`listening ${fake.url}\ntoken_uri ${fake.tokenUri}\n`);

  serveControl(fake, (cmd) => {
    if (cmd.mode) fake.setMode(cmd.mode, cmd.opts || {});
    if (cmd.advanceClock) fake.advanceClock(cmd.advanceClock);
    if (cmd.revokeTokens) fake.revokeTokens();
    if (cmd.reset) fake.reset();
    if (cmd.stats) printJson({ stats: fake.stats(), mode: fake.mode() });
    if (cmd.dump) printJson({ dump: fake.getClass(cmd.dump) || fake.getObject(cmd.dump) || null });
    if (cmd.changes) printJson({ changes: fake.changes(cmd.changes) });
  });
}

runIfMain(import.meta.url, main);
