// Proves the fake APNs is strict: node --test tests/fakes/
//
// Certificates are made with the openssl CLI (certs.js). Set APNS_FAKE_CERTS=DIR to also run the
// basic checks against the output of `loy certs dev --out DIR`.

import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { startFakeApns, REASONS, FAKE_BAD_PAYLOAD } from './apns.js';
import { makeDevCerts, makeRoot, makeLeaf } from './certs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOPIC = 'pass.dev.loy.demo';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const newToken = () => crypto.randomBytes(32).toString('hex');
const read = (f) => fs.readFileSync(f);

let dir;
let certs;
let extra; // more client identities

/** TLS options for http2.connect: the pass certificate + its intermediate, as the C client sends them. */
function clientTls(id = 'pass', { chain = true } = {}) {
  const c = extra[id];
  return {
    ca: read(certs.ca),
    cert: chain && c.chain ? Buffer.concat([read(c.cert), read(c.chain)]) : read(c.cert),
    key: read(c.key),
  };
}

/** An open session whose SETTINGS from the server have arrived. */
function connect(url, tls) {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, tls);
    s.once('error', reject);
    s.once('remoteSettings', () => {
      s.off('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/** One request on an open session → { status, headers, body (string), json }. */
function push(session, { token = newToken(), method = 'POST', path: p, headers = {}, body = '{}' } = {}) {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': method,
      ':path': p ?? `/3/device/${token}`,
      ...('apns-topic' in headers ? {} : { 'apns-topic': TOPIC }),
      ...Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)),
    });
    let resHeaders;
    const chunks = [];
    req.on('response', (h) => (resHeaders = h));
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      if (!resHeaders) {
        reject(Object.assign(new Error(`stream closed without a response (rst ${req.rstCode})`), { rstCode: req.rstCode }));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        // left null
      }
      resolve({ status: resHeaders[':status'], headers: resHeaders, body: text, json });
    });
    if (body === null) req.end();
    else req.end(body);
  });
}

/** Connect with `tls` and try one push; resolves with the error that stopped it (TLS refusal). */
function expectRefused(url, tls) {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, tls);
    let settled = false;
    const done = (err) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (err) resolve(err);
      else reject(new Error('the push went through'));
    };
    s.on('error', done);
    // a certificate that does not verify: the server closes the connection without an answer
    s.on('close', () => done(new Error('connection closed')));
    const req = s.request({ ':method': 'POST', ':path': `/3/device/${newToken()}`, 'apns-topic': TOPIC });
    req.on('error', done);
    req.on('response', () => done(null));
    req.on('close', () => done(new Error(`stream closed (rst ${req.rstCode})`)));
    req.end('{}');
  });
}

async function expectReason(session, opts, status, reason) {
  const r = await push(session, opts);
  assert.equal(r.status, status, `expected ${status} ${reason}, got ${r.status} ${r.body}`);
  assert.deepEqual(Object.keys(r.json), ['reason']);
  assert.equal(r.json.reason, reason);
  assert.equal(REASONS[reason] ?? 400, status);
  assert.match(r.headers['apns-id'], UUID_RE);
  return r;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loy-fake-apns-'));
  certs = makeDevCerts(dir);
  const other = makeRoot(dir, 'other-ca', 'Some Other Root', { keyType: 'ec' });
  const otherInt = makeLeaf(dir, 'other-int', '/CN=Other Intermediate', other, 'intermediate', { keyType: 'ec' });
  makeLeaf(dir, 'other-pass', `/UID=${TOPIC}/CN=Pass Type ID: ${TOPIC}/OU=LOYDEV0001/O=Loy Dev/C=US`, otherInt, 'client', { keyType: 'ec' });
  makeLeaf(dir, 'pass2', '/UID=pass.dev.loy.other/CN=Pass Type ID: pass.dev.loy.other/OU=LOYDEV0001/O=Loy Dev/C=US', certs.wwdrCa, 'client', { keyType: 'ec' });
  makeLeaf(dir, 'multi', `/UID=${TOPIC}/UID=pass.dev.loy.second/CN=two topics/OU=LOYDEV0001`, certs.wwdrCa, 'client', { keyType: 'ec' });
  makeLeaf(dir, 'expired', `/UID=${TOPIC}/CN=Pass Type ID: ${TOPIC}/OU=LOYDEV0001`, certs.wwdrCa, 'client', { keyType: 'ec', days: -1 });
  const p = (f) => path.join(dir, f);
  extra = {
    pass: { cert: certs.pass, key: certs.passKey, chain: certs.wwdr },
    other: { cert: p('other-pass.pem'), key: p('other-pass.key'), chain: p('other-int.pem') },
    pass2: { cert: p('pass2.pem'), key: p('pass2.key'), chain: certs.wwdr },
    multi: { cert: p('multi.pem'), key: p('multi.key'), chain: certs.wwdr },
    expired: { cert: p('expired.pem'), key: p('expired.key'), chain: certs.wwdr },
  };
});

after(() => {
  if (!process.env.LOY_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

describe('fake APNs (strict: client must send leaf + intermediate, apns-topic required)', () => {
  let apns;
  let s; // one shared client session

  before(async () => {
    apns = await startFakeApns({ caFile: certs.ca, certFile: certs.localhost, keyFile: certs.localhostKey });
    s = await connect(apns.url, clientTls());
  });
  after(async () => {
    s.destroy();
    await apns.stop();
  });
  beforeEach(() => {
    apns.setMode('ok');
    apns.reset();
  });

  test('listens on 127.0.0.1, ALPN h2, TLS 1.2+, advertises SETTINGS_MAX_CONCURRENT_STREAMS 1000', () => {
    assert.match(apns.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.alpnProtocol, 'h2');
    assert.ok(['TLSv1.2', 'TLSv1.3'].includes(s.socket.getProtocol()));
    assert.equal(s.remoteSettings.maxConcurrentStreams, 1000);
  });

  test('a good Wallet push: 200, empty body, a generated apns-id; everything recorded', async () => {
    const token = newToken();
    const r = await push(s, { token });
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.match(r.headers['apns-id'], UUID_RE);
    assert.equal(apns.pushes.length, 1);
    const rec = apns.pushes[0];
    assert.equal(rec.token, token);
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, `/3/device/${token}`);
    assert.equal(rec.topic, TOPIC);
    assert.equal(rec.body, '{}');
    assert.equal(rec.status, 200);
    assert.equal(rec.reason, null);
    assert.equal(rec.protocolError, null);
    assert.equal(rec.apnsId, r.headers['apns-id']);
    assert.equal(rec.subject.UID, TOPIC);
    assert.equal(rec.subject.OU, 'LOYDEV0001');
    assert.match(rec.subjectString, /UID=pass\.dev\.loy\.demo/);
    assert.equal(rec.headers['apns-topic'], TOPIC);
    assert.equal(typeof rec.time, 'number');
  });

  test('apns-id sent by the client is echoed; priority 10/5/1, expiration, collapse-id, push-type background accepted', async () => {
    const id = crypto.randomUUID();
    const r = await push(s, { headers: { 'apns-id': id, 'apns-priority': '5', 'apns-expiration': '0', 'apns-push-type': 'background', 'apns-collapse-id': 'x'.repeat(64) } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['apns-id'], id);
    const upper = crypto.randomUUID().toUpperCase();
    assert.equal((await push(s, { headers: { 'apns-id': upper, 'apns-priority': '10' } })).headers['apns-id'], upper);
    assert.equal((await push(s, { headers: { 'apns-priority': '1', 'apns-expiration': String(Math.floor(Date.now() / 1000) + 3600) } })).status, 200);
    assert.equal((await push(s, { headers: { 'apns-push-type': 'alert' } })).status, 200);
    assert.equal(apns.pushes[0].pushType, 'background');
    assert.equal(apns.pushes[0].priority, '5');
    assert.deepEqual(apns.pushes[0].warnings, []);
    // background with priority 10 passes but is noted
    assert.equal((await push(s, { headers: { 'apns-push-type': 'background', 'apns-priority': '10' } })).status, 200);
    assert.match(apns.pushes.at(-1).warnings.join(), /priority 5/);
  });

  test('a body of exactly 4096 bytes is accepted; 4097 is 413 PayloadTooLarge', async () => {
    const ok = `{${' '.repeat(4094)}}`;
    assert.equal(Buffer.byteLength(ok), 4096);
    assert.equal((await push(s, { body: ok })).status, 200);
    await expectReason(s, { body: `{${' '.repeat(4095)}}` }, 413, 'PayloadTooLarge');
    await expectReason(s, { body: Buffer.alloc(64 * 1024, 0x20) }, 413, 'PayloadTooLarge');
    assert.equal(apns.pushes.at(-1).bodyBytes, 64 * 1024);
  });

  test('payload: empty → PayloadEmpty; not JSON, not an object, or not {} → 400 (fake-only reason)', async () => {
    await expectReason(s, { body: null }, 400, 'PayloadEmpty');
    await expectReason(s, { body: '' }, 400, 'PayloadEmpty');
    await expectReason(s, { body: 'not json' }, 400, FAKE_BAD_PAYLOAD);
    await expectReason(s, { body: '[]' }, 400, FAKE_BAD_PAYLOAD);
    await expectReason(s, { body: 'null' }, 400, FAKE_BAD_PAYLOAD);
    await expectReason(s, { body: '{"aps":{"content-available":1}}' }, 400, FAKE_BAD_PAYLOAD);
    assert.match(apns.pushes.at(-1).protocolError.detail, /empty dictionary/);
    assert.equal((await push(s, { body: ' { } ' })).status, 200);
  });

  test('method and path: non-POST → 405 MethodNotAllowed, other paths → 404 BadPath', async () => {
    await expectReason(s, { method: 'GET', body: null }, 405, 'MethodNotAllowed');
    await expectReason(s, { method: 'PUT' }, 405, 'MethodNotAllowed');
    await expectReason(s, { path: `/3/devices/${newToken()}` }, 404, 'BadPath');
    await expectReason(s, { path: `/2/device/${newToken()}` }, 404, 'BadPath');
    await expectReason(s, { path: `/3/device/${newToken()}/x` }, 404, 'BadPath');
    await expectReason(s, { path: `/3/device/${newToken()}?x=1` }, 404, 'BadPath');
    await expectReason(s, { path: '/' }, 404, 'BadPath');
  });

  test('device token: empty → MissingDeviceToken; not 64 hex characters → BadDeviceToken', async () => {
    await expectReason(s, { path: '/3/device/' }, 400, 'MissingDeviceToken');
    await expectReason(s, { token: 'abc123' }, 400, 'BadDeviceToken');
    await expectReason(s, { token: 'g'.repeat(64) }, 400, 'BadDeviceToken');
    await expectReason(s, { token: newToken() + 'aa' }, 400, 'BadDeviceToken');
    await expectReason(s, { token: newToken().slice(0, 62) }, 400, 'BadDeviceToken');
    assert.equal((await push(s, { token: newToken().toUpperCase() })).status, 200);
  });

  test('topic: missing → MissingTopic, empty → BadTopic, not the certificate UID → TopicDisallowed', async () => {
    await expectReason(s, { headers: { 'apns-topic': undefined } }, 400, 'MissingTopic');
    await expectReason(s, { headers: { 'apns-topic': '' } }, 400, 'BadTopic');
    await expectReason(s, { headers: { 'apns-topic': 'pass.dev.loy.other' } }, 400, 'TopicDisallowed');
    await expectReason(s, { headers: { 'apns-topic': 'com.example.app' } }, 400, 'TopicDisallowed');
    await expectReason(s, { headers: { 'apns-topic': `${TOPIC}.voip` } }, 400, 'TopicDisallowed');
    // a certificate for another pass type: its own topic is fine, ours is not
    const s2 = await connect(apns.url, clientTls('pass2'));
    try {
      assert.equal((await push(s2, { headers: { 'apns-topic': 'pass.dev.loy.other' } })).status, 200);
      await expectReason(s2, {}, 400, 'TopicDisallowed');
    } finally {
      s2.destroy();
    }
  });

  test('headers: bad priority, expiration, apns-id, collapse-id, push-type; repeated header', async () => {
    await expectReason(s, { headers: { 'apns-priority': '7' } }, 400, 'BadPriority');
    await expectReason(s, { headers: { 'apns-priority': 'high' } }, 400, 'BadPriority');
    await expectReason(s, { headers: { 'apns-expiration': 'tomorrow' } }, 400, 'BadExpirationDate');
    await expectReason(s, { headers: { 'apns-expiration': '-1' } }, 400, 'BadExpirationDate');
    await expectReason(s, { headers: { 'apns-id': 'not-a-uuid' } }, 400, 'BadMessageId');
    await expectReason(s, { headers: { 'apns-collapse-id': 'x'.repeat(65) } }, 400, 'BadCollapseId');
    await expectReason(s, { headers: { 'apns-push-type': 'wallet' } }, 400, 'InvalidPushType');
    await expectReason(s, { headers: { 'apns-push-type': 'voip' } }, 400, 'InvalidPushType');
    await expectReason(s, { headers: { 'apns-topic': [TOPIC, TOPIC] } }, 400, 'DuplicateHeaders');
    await expectReason(s, { headers: { 'apns-priority': ['10', '10'] } }, 400, 'DuplicateHeaders');
    // the apns-id of a refused request with a bad apns-id is a fresh one
    assert.notEqual(apns.pushes[4].apnsId, 'not-a-uuid');
  });

  test('no client certificate → TLS handshake refused, nothing recorded', async () => {
    const err = await expectRefused(apns.url, { ca: read(certs.ca) });
    assert.match(String(err.code || err.message), /CERTIFICATE_REQUIRED|HANDSHAKE|ECONNRESET|SOCKET/i);
    assert.equal(apns.pushes.length, 0);
    await sleep(50);
    assert.ok(apns.stats().tlsErrors.length >= 1);
  });

  test('a client certificate from another CA (same subject) → refused', async () => {
    await expectRefused(apns.url, clientTls('other'));
    assert.equal(apns.pushes.length, 0);
    await sleep(50);
    assert.deepEqual(apns.stats().tlsErrors.map((e) => e.code), ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);
  });

  test('the pass certificate without its intermediate → refused (this instance does not know the WWDR)', async () => {
    await expectRefused(apns.url, clientTls('pass', { chain: false }));
    assert.equal(apns.pushes.length, 0);
    await sleep(50);
    assert.deepEqual(apns.stats().tlsErrors.map((e) => e.code), ['UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
  });

  test('an expired client certificate → refused', async () => {
    await expectRefused(apns.url, clientTls('expired'));
    assert.equal(apns.pushes.length, 0);
    await sleep(50);
    assert.deepEqual(apns.stats().tlsErrors.map((e) => e.code), ['CERT_HAS_EXPIRED']);
  });

  test('a client that does not negotiate h2 (HTTPS/1.1) is dropped', async () => {
    const tls = clientTls();
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = https.request(`${apns.url}/3/device/${newToken()}`, { method: 'POST', ...tls, headers: { 'apns-topic': TOPIC } }, resolve);
        req.on('error', reject);
        req.end('{}');
      }),
    );
    assert.equal(apns.pushes.length, 0);
    assert.ok(apns.stats().alpnFailures >= 1);
  });

  describe('modes', () => {
    test('unregistered: 410 Unregistered with a timestamp (ms) for all tokens', async () => {
      const before = Date.now();
      apns.setMode('unregistered');
      const r = await push(s);
      assert.equal(r.status, 410);
      assert.deepEqual(Object.keys(r.json).sort(), ['reason', 'timestamp']);
      assert.equal(r.json.reason, 'Unregistered');
      assert.ok(Number.isInteger(r.json.timestamp) && r.json.timestamp >= before && r.json.timestamp <= Date.now());
      assert.equal(apns.pushes[0].status, 410);
      assert.equal(apns.pushes[0].mode, 'unregistered');
    });

    test('unregistered for given tokens only; custom timestamp; ExpiredToken', async () => {
      const gone = newToken();
      apns.setMode('unregistered', { tokens: [gone], timestamp: 1700000000000 });
      const r = await push(s, { token: gone });
      assert.deepEqual(r.json, { reason: 'Unregistered', timestamp: 1700000000000 });
      assert.equal((await push(s)).status, 200);
      apns.setMode('unregistered', { reason: 'ExpiredToken' });
      assert.equal((await push(s)).json.reason, 'ExpiredToken');
    });

    test('badToken and notForTopic for given tokens', async () => {
      const t = newToken();
      apns.setMode('badToken', { tokens: [t] });
      await expectReason(s, { token: t }, 400, 'BadDeviceToken');
      assert.equal((await push(s)).status, 200);
      apns.setMode('notForTopic', { tokens: [t] });
      await expectReason(s, { token: t }, 400, 'DeviceTokenNotForTopic');
      assert.equal((await push(s)).status, 200);
    });

    test('tooMany: 429 TooManyRequests for N requests, then ok', async () => {
      apns.setMode('tooMany', { count: 2 });
      await expectReason(s, {}, 429, 'TooManyRequests');
      await expectReason(s, {}, 429, 'TooManyRequests');
      assert.equal((await push(s)).status, 200);
      assert.equal(apns.mode().name, 'ok');
    });

    test('error: 500 InternalServerError for N requests, then ok', async () => {
      apns.setMode('error', { count: 3 });
      for (let i = 0; i < 3; i++) await expectReason(s, {}, 500, 'InternalServerError');
      assert.equal((await push(s)).status, 200);
    });

    test('unavailable: 503 ServiceUnavailable until changed', async () => {
      apns.setMode('unavailable');
      for (let i = 0; i < 3; i++) await expectReason(s, {}, 503, 'ServiceUnavailable');
      apns.setMode('ok');
      assert.equal((await push(s)).status, 200);
    });

    test('unavailable with Shutdown + goaway: 503 then GOAWAY carrying {"reason":"Shutdown"}; a new connection works', async () => {
      const s2 = await connect(apns.url, clientTls());
      const goaway = new Promise((resolve) => s2.once('goaway', (code, last, data) => resolve({ code, data: data && data.toString() })));
      apns.setMode('unavailable', { reason: 'Shutdown', goaway: true, count: 1 });
      await expectReason(s2, {}, 503, 'Shutdown');
      const g = await goaway;
      assert.equal(g.code, http2.constants.NGHTTP2_NO_ERROR);
      assert.deepEqual(JSON.parse(g.data), { reason: 'Shutdown' });
      s2.destroy();
      const s3 = await connect(apns.url, clientTls());
      assert.equal((await push(s3)).status, 200);
      s3.destroy();
    });

    test('forbidden: 403 BadCertificate (certificate auth), or BadCertificateEnvironment', async () => {
      apns.setMode('forbidden');
      await expectReason(s, {}, 403, 'BadCertificate');
      apns.setMode('forbidden', { reason: 'BadCertificateEnvironment' });
      await expectReason(s, {}, 403, 'BadCertificateEnvironment');
      assert.throws(() => apns.setMode('forbidden', { reason: 'InvalidProviderToken' }), /not one of/);
      assert.throws(() => apns.setMode('sometimes'), /unknown mode/);
    });

    test('service-wide modes answer even malformed requests, but the protocol error is still recorded', async () => {
      apns.setMode('error');
      await expectReason(s, { body: '' }, 500, 'InternalServerError');
      assert.equal(apns.pushes[0].protocolError.reason, 'PayloadEmpty');
      // token modes do not hide protocol errors
      apns.setMode('unregistered');
      await expectReason(s, { headers: { 'apns-topic': 'x.y' } }, 400, 'TopicDisallowed');
    });

    test('stall: the stream stays open with no answer until the mode changes', async () => {
      apns.setMode('stall');
      const p = push(s);
      await apns.waitFor((ps) => ps.length === 1 && ps[0].stalled);
      const race = await Promise.race([p.then(() => 'answered'), sleep(300).then(() => 'waiting')]);
      assert.equal(race, 'waiting');
      assert.equal(apns.stats().held, 1);
      assert.equal(apns.pushes[0].status, null);
      apns.setMode('unregistered'); // released requests are answered under the new mode
      const r = await p;
      assert.equal(r.status, 410);
      assert.equal(apns.pushes[0].status, 410);
      assert.equal(apns.stats().held, 0);
    });

    test('stall for given tokens only; a client that gives up is recorded as cancelled', async () => {
      const slow = newToken();
      apns.setMode('stall', { tokens: [slow] });
      assert.equal((await push(s)).status, 200);
      const req = s.request({ ':method': 'POST', ':path': `/3/device/${slow}`, 'apns-topic': TOPIC });
      req.on('error', () => {});
      req.end('{}');
      await apns.waitFor((ps) => ps.some((r) => r.token === slow && r.stalled));
      req.close(http2.constants.NGHTTP2_CANCEL);
      const rec = await apns.waitFor((ps) => ps.find((r) => r.token === slow && r.cancelled != null));
      assert.equal(rec.cancelled, http2.constants.NGHTTP2_CANCEL);
      assert.equal(rec.status, null);
      assert.equal(apns.stats().held, 0);
    });

    test('concurrent streams over one connection are counted', async () => {
      const s2 = await connect(apns.url, clientTls());
      apns.reset(); // counts from here: the shared session stays open but idle
      apns.setMode('stall');
      const N = 50;
      const all = Array.from({ length: N }, () => push(s2));
      await apns.waitFor((ps) => ps.filter((r) => r.stalled).length === N);
      apns.setMode('ok');
      const rs = await Promise.all(all);
      assert.ok(rs.every((r) => r.status === 200));
      const st = apns.stats();
      assert.equal(st.maxConcurrentStreams, N);
      assert.equal(st.peakInFlight, N);
      const used = new Set(apns.pushes.map((r) => r.connection));
      assert.equal(used.size, 1, 'all pushes on one connection');
      assert.equal(st.connections, 2); // the shared idle session + s2
      assert.equal(st.perConnection.find((c) => c.id === [...used][0]).peak, N);
      s2.destroy();
    });

    test('waitForPushes resolves once n requests are answered', async () => {
      setTimeout(() => push(s), 50);
      setTimeout(() => push(s), 80);
      const ps = await apns.waitForPushes(2, 2000);
      assert.equal(ps.filter((r) => r.status === 200).length, 2);
      await assert.rejects(apns.waitForPushes(5, 100), /not met within 100 ms/);
    });
  });
});

describe('fake APNs (lenient like Apple: knows the WWDR, defaults the topic; 8 streams)', () => {
  let apns;
  before(async () => {
    apns = await startFakeApns({
      caFile: certs.ca, certFile: certs.localhost, keyFile: certs.localhostKey,
      wwdrFile: certs.wwdr, requireTopic: false, maxConcurrentStreams: 8,
    });
  });
  after(() => apns.stop());

  test('advertises the configured SETTINGS_MAX_CONCURRENT_STREAMS and the peak is counted', async () => {
    const s = await connect(apns.url, clientTls());
    assert.equal(s.remoteSettings.maxConcurrentStreams, 8);
    apns.setMode('stall');
    const all = Array.from({ length: 8 }, () => push(s));
    await apns.waitFor((ps) => ps.filter((r) => r.stalled).length === 8);
    apns.setMode('ok');
    assert.ok((await Promise.all(all)).every((r) => r.status === 200));
    assert.equal(apns.stats().maxConcurrentStreams, 8);
    s.destroy();
  });

  test('the leaf certificate alone is accepted when the server knows the intermediate', async () => {
    const s = await connect(apns.url, clientTls('pass', { chain: false }));
    assert.equal((await push(s)).status, 200);
    s.destroy();
  });

  test('without apns-topic, a single-topic certificate defaults to its UID (Apple); several topics → MissingTopic', async () => {
    const s = await connect(apns.url, clientTls());
    assert.equal((await push(s, { headers: { 'apns-topic': undefined } })).status, 200);
    const rec = apns.pushes.at(-1);
    assert.equal(rec.topic, TOPIC);
    assert.match(rec.warnings.join(), /defaulted/);
    s.destroy();
    const m = await connect(apns.url, clientTls('multi'));
    await expectReason(m, { headers: { 'apns-topic': undefined } }, 400, 'MissingTopic');
    assert.equal((await push(m, { headers: { 'apns-topic': 'pass.dev.loy.second' } })).status, 200);
    assert.deepEqual(apns.pushes.at(-1).subject.UID, [TOPIC, 'pass.dev.loy.second']);
    m.destroy();
  });

  test('goaway(): every open connection gets GOAWAY with the reason', async () => {
    const s = await connect(apns.url, clientTls());
    const g = new Promise((resolve) => s.once('goaway', (code, last, data) => resolve(JSON.parse(data.toString()))));
    assert.equal((await push(s)).status, 200);
    apns.goaway('Shutdown');
    assert.deepEqual(await g, { reason: 'Shutdown' });
    s.destroy();
  });
});

test('idle connections get GOAWAY {"reason":"IdleTimeout"} when idleTimeoutMs is set', async () => {
  const apns = await startFakeApns({ caFile: certs.ca, certFile: certs.localhost, keyFile: certs.localhostKey, idleTimeoutMs: 200 });
  try {
    const s = await connect(apns.url, clientTls());
    const g = new Promise((resolve) => s.once('goaway', (code, last, data) => resolve(JSON.parse(data.toString()))));
    assert.equal((await push(s)).status, 200);
    assert.deepEqual(await g, { reason: 'IdleTimeout' });
    s.destroy();
  } finally {
    await apns.stop();
  }
});

test('stop() resets stalled streams and closes connections', async () => {
  const apns = await startFakeApns({ caFile: certs.ca, certFile: certs.localhost, keyFile: certs.localhostKey });
  const s = await connect(apns.url, clientTls());
  apns.setMode('stall');
  const p = push(s);
  await apns.waitFor((ps) => ps.length === 1 && ps[0].stalled);
  await apns.stop();
  await assert.rejects(p);
  assert.equal(apns.pushes[0].status, null);
  assert.equal(apns.pushes[0].reason, 'stopped');
  s.destroy();
});

test('command line: prints "listening https://127.0.0.1:PORT", logs each push, takes modes on stdin', async () => {
  const child = spawn(process.execPath, [path.join(HERE, 'apns.js'), '--ca', certs.ca, '--cert', certs.localhost, '--key', certs.localhostKey, '--port', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  const waitLine = (re) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const l = lines.find((x) => re.test(x));
        if (l) resolve(l);
        else if (child.exitCode != null) reject(new Error(`exited ${child.exitCode}: ${lines.join('\n')}`));
        else setTimeout(check, 20);
      };
      check();
    });
  child.stdout.on('data', (c) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop();
    lines.push(...parts);
  });
  try {
    const first = await waitLine(/^listening /);
    const m = /^listening (https:\/\/127\.0\.0\.1:(\d+))$/.exec(first);
    assert.ok(m, first);
    const s = await connect(m[1], clientTls());
    assert.equal((await push(s)).status, 200);
    const logged = JSON.parse(await waitLine(/"status":200/));
    assert.equal(logged.topic, TOPIC);
    child.stdin.write('{"mode":"unregistered"}\n');
    await sleep(100);
    assert.equal((await push(s)).status, 410);
    child.stdin.write('{"stats":true}\n');
    const stats = JSON.parse(await waitLine(/^\{"stats"/));
    assert.equal(stats.stats.connections, 1);
    assert.equal(stats.mode.name, 'unregistered');
    s.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode != null ? resolve() : child.once('exit', resolve)));
  }
  assert.equal(child.exitCode, 0);
});

test('command line: missing arguments → usage and exit 2', async () => {
  const child = spawn(process.execPath, [path.join(HERE, 'apns.js'), '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /usage: node tests\/fakes\/apns\.js/);
});

describe('with `loy certs dev` output (APNS_FAKE_CERTS=DIR)', { skip: !process.env.APNS_FAKE_CERTS && 'APNS_FAKE_CERTS not set' }, () => {
  const D = process.env.APNS_FAKE_CERTS;
  const f = (n) => path.join(D, n);
  test('pass.pem + wwdr.pem authenticate; the topic is the UID of pass.pem; no certificate is refused', async () => {
    const uid = /UID=([^\n,]+)/.exec(new crypto.X509Certificate(read(f('pass.pem'))).subject)[1];
    const apns = await startFakeApns({ caFile: f('ca.pem'), certFile: f('localhost.pem'), keyFile: f('localhost.key') });
    try {
      const s = await connect(apns.url, { ca: read(f('ca.pem')), cert: Buffer.concat([read(f('pass.pem')), read(f('wwdr.pem'))]), key: read(f('pass.key')) });
      const r = await push(s, { headers: { 'apns-topic': uid } });
      assert.equal(r.status, 200, r.body);
      assert.equal(apns.pushes[0].subject.UID, uid);
      s.destroy();
      await expectRefused(apns.url, { ca: read(f('ca.pem')) });
    } finally {
      await apns.stop();
    }
  });
});
