// Proves the fake WalletPasses push API is strict: node --test tests/fakes/

import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { startFakeWalletPasses, PUSH_PATH } from './walletpasses.js';
import { makeDevCerts } from './certs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const KEY = 'test-api-key-0123456789';
const PTID = 'pass.dev.loy.demo';

let dir;
let certs;

function connect(url) {
  return new Promise((resolve, reject) => {
    const s = http2.connect(url, { ca: fs.readFileSync(certs.ca) });
    s.once('error', reject);
    s.once('remoteSettings', () => {
      s.off('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/** One request over h2 → { status, headers, body, json }. body: a string, or an object sent as JSON. */
function post(session, { method = 'POST', path: p = PUSH_PATH, auth = KEY, type = 'application/json', body } = {}) {
  const text = body === undefined ? JSON.stringify({ passTypeIdentifier: PTID, pushTokens: ['tok-a', 'tok-b'] })
    : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const h = { ':method': method, ':path': p };
    if (auth !== null) h.authorization = auth;
    if (type !== null) h['content-type'] = type;
    const req = session.request(h);
    let resHeaders;
    const chunks = [];
    req.on('response', (x) => (resHeaders = x));
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      if (!resHeaders) {
        reject(new Error(`stream closed without a response (rst ${req.rstCode})`));
        return;
      }
      const s = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try {
        json = s ? JSON.parse(s) : null;
      } catch {
        // left null
      }
      resolve({ status: resHeaders[':status'], headers: resHeaders, body: s, json });
    });
    if (method === 'GET') req.end();
    else req.end(text);
  });
}

async function expectError(session, opts, status, messageRe) {
  const r = await post(session, opts);
  assert.equal(r.status, status, `expected ${status}, got ${r.status} ${r.body}`);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.deepEqual(Object.keys(r.json), ['error']);
  assert.equal(r.json.error.code, status);
  assert.match(r.json.error.message, messageRe);
  return r;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loy-fake-wp-'));
  certs = makeDevCerts(dir);
});

after(() => {
  if (!process.env.LOY_TEST_KEEP) fs.rmSync(dir, { recursive: true, force: true });
});

describe('fake WalletPasses push API', () => {
  let wp;
  let s;

  before(async () => {
    wp = await startFakeWalletPasses({ certFile: certs.localhost, keyFile: certs.localhostKey, apiKey: KEY, maxTokens: 5, maxBody: 1024 });
    s = await connect(wp.url);
  });
  after(async () => {
    s.destroy();
    await wp.stop();
  });
  beforeEach(() => {
    wp.setMode('ok');
    wp.clearTokenErrors();
    wp.reset();
  });

  test('a good push: 200 with a result per token (GCM multicast shape); recorded', async () => {
    const r = await post(s);
    assert.equal(r.status, 200);
    assert.equal(r.json.success, 2);
    assert.equal(r.json.failure, 0);
    assert.equal(r.json.results.length, 2);
    assert.ok(r.json.results.every((x) => typeof x.message_id === 'string' && !('error' in x)));
    const rec = wp.pushes[0];
    assert.equal(rec.httpVersion, '2.0');
    assert.equal(rec.authorization, KEY);
    assert.equal(rec.passTypeIdentifier, PTID);
    assert.deepEqual(rec.pushTokens, ['tok-a', 'tok-b']);
    assert.equal(rec.protocolError, null);
    assert.equal(rec.status, 200);
    assert.deepEqual(wp.delivered(), ['tok-a', 'tok-b']);
  });

  test('content-type with parameters is JSON too; HTTP/1.1 is served as well', async () => {
    assert.equal((await post(s, { type: 'application/json; charset=utf-8' })).status, 200);
    const body = JSON.stringify({ passTypeIdentifier: PTID, pushTokens: ['h1'] });
    const r = await new Promise((resolve, reject) => {
      const req = https.request(`${wp.url}${PUSH_PATH}`, {
        method: 'POST', ca: fs.readFileSync(certs.ca), headers: { authorization: KEY, 'content-type': 'application/json' },
      }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(t) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(r.status, 200);
    assert.equal(r.json.success, 1);
    assert.equal(wp.pushes[1].httpVersion, '1.1');
  });

  test('path and method: other paths → 404, not POST → 405 with Allow: POST', async () => {
    await expectError(s, { path: '/api/v1/push/' }, 404, /no such path/);
    await expectError(s, { path: `${PUSH_PATH}?x=1` }, 404, /no such path/);
    const r = await expectError(s, { method: 'PUT' }, 405, /POST only/);
    assert.equal(r.headers.allow, 'POST');
    await expectError(s, { method: 'GET' }, 405, /POST only/);
  });

  test('Authorization: missing, wrong, another case, or with a scheme in front → 401', async () => {
    await expectError(s, { auth: null }, 401, /missing Authorization/);
    await expectError(s, { auth: 'nope' }, 401, /invalid API key/);
    await expectError(s, { auth: `Bearer ${KEY}` }, 401, /invalid API key/);
    await expectError(s, { auth: KEY.toUpperCase() }, 401, /invalid API key/);
    assert.equal(wp.pushes[0].protocolError.status, 401);
  });

  test('the key is checked before the body: a malformed body with a wrong key is 401', async () => {
    await expectError(s, { auth: 'nope', body: 'not json' }, 401, /invalid API key/);
  });

  test('content-type: missing or not JSON → 400', async () => {
    await expectError(s, { type: null }, 400, /content-type must be application\/json/);
    await expectError(s, { type: 'text/plain' }, 400, /content-type/);
    await expectError(s, { type: 'application/x-www-form-urlencoded' }, 400, /content-type/);
  });

  test('body shape: not JSON, not an object, missing or wrong fields, unknown keys → 400 naming the problem', async () => {
    await expectError(s, { body: '' }, 400, /not JSON/);
    await expectError(s, { body: '{"passTypeIdentifier":' }, 400, /not JSON/);
    await expectError(s, { body: [] }, 400, /not a JSON object/);
    await expectError(s, { body: 'null' }, 400, /not a JSON object/);
    await expectError(s, { body: { pushTokens: ['a'] } }, 400, /passTypeIdentifier must be a non-empty string/);
    await expectError(s, { body: { passTypeIdentifier: '', pushTokens: ['a'] } }, 400, /passTypeIdentifier/);
    await expectError(s, { body: { passTypeIdentifier: 7, pushTokens: ['a'] } }, 400, /passTypeIdentifier/);
    await expectError(s, { body: { passTypeIdentifier: PTID } }, 400, /pushTokens must be a non-empty array/);
    await expectError(s, { body: { passTypeIdentifier: PTID, pushTokens: [] } }, 400, /non-empty array/);
    await expectError(s, { body: { passTypeIdentifier: PTID, pushTokens: 'a' } }, 400, /non-empty array/);
    await expectError(s, { body: { passTypeIdentifier: PTID, pushTokens: ['a', ''] } }, 400, /pushTokens\[1\] must be a non-empty string/);
    await expectError(s, { body: { passTypeIdentifier: PTID, pushTokens: ['a', 5] } }, 400, /pushTokens\[1\]/);
    await expectError(s, { body: { passTypeIdentifier: PTID, pushTokens: ['a'], sound: 'x' } }, 400, /unknown key "sound"/);
    assert.equal(wp.pushes.filter((r) => r.status === 200).length, 0);
  });

  test('limits: maxTokens tokens pass, one more is 413; maxBody bytes pass, one more is 413', async () => {
    const five = ['1', '2', '3', '4', '5'];
    assert.equal((await post(s, { body: { passTypeIdentifier: PTID, pushTokens: five } })).status, 200);
    await expectError(s, { body: { passTypeIdentifier: PTID, pushTokens: [...five, '6'] } }, 413, /too many pushTokens: 6 > 5/);
    const base = JSON.stringify({ passTypeIdentifier: PTID, pushTokens: [''] });
    const exact = JSON.stringify({ passTypeIdentifier: PTID, pushTokens: ['x'.repeat(1024 - base.length)] });
    assert.equal(Buffer.byteLength(exact), 1024);
    assert.equal((await post(s, { body: exact })).status, 200);
    const over = JSON.stringify({ passTypeIdentifier: PTID, pushTokens: ['x'.repeat(1025 - base.length)] });
    await expectError(s, { body: over }, 413, /1025 bytes over 1024/);
  });

  test('per-token errors in a 200 answer', async () => {
    wp.setTokenError('tok-b', 'NotRegistered');
    const r = await post(s);
    assert.equal(r.status, 200);
    assert.equal(r.json.success, 1);
    assert.equal(r.json.failure, 1);
    assert.ok('message_id' in r.json.results[0]);
    assert.deepEqual(r.json.results[1], { error: 'NotRegistered' });
    assert.deepEqual(wp.delivered(), ['tok-a']);
    assert.throws(() => wp.setTokenError('x', 'Gone'), /unknown token error/);
  });

  describe('modes', () => {
    test('unauthorized and forbidden: 401 / 403 for every request, even a good one; opts.message replaces the message', async () => {
      wp.setMode('unauthorized');
      await expectError(s, {}, 401, /invalid API key/);
      wp.setMode('forbidden', { count: 1, message: 'key blocked for abuse' });
      await expectError(s, {}, 403, /^key blocked for abuse$/);
      assert.equal(wp.mode().name, 'ok');
      assert.equal((await post(s)).status, 200);
    });

    test('tooMany: 429 with Retry-After (default 30, or given, or none) for K requests, then ok', async () => {
      wp.setMode('tooMany', { count: 2, retryAfter: 7 });
      assert.equal((await expectError(s, {}, 429, /rate limit/)).headers['retry-after'], '7');
      assert.equal((await expectError(s, {}, 429, /rate limit/)).headers['retry-after'], '7');
      assert.equal((await post(s)).status, 200);
      assert.equal(wp.mode().name, 'ok');
      wp.setMode('tooMany', { count: 1 });
      assert.equal((await expectError(s, {}, 429, /rate limit/)).headers['retry-after'], '30');
      wp.setMode('tooMany', { count: 1, retryAfter: null });
      assert.equal((await expectError(s, {}, 429, /rate limit/)).headers['retry-after'], undefined);
    });

    test('error and unavailable: 500 / 503; service modes answer malformed requests too, the problem is recorded', async () => {
      wp.setMode('error', { count: 1 });
      await expectError(s, { body: 'junk' }, 500, /internal/);
      assert.equal(wp.pushes[0].protocolError.status, 400);
      wp.setMode('unavailable', { count: 1 });
      await expectError(s, {}, 503, /unavailable/);
      assert.equal((await post(s)).status, 200);
    });

    test('stall: no answer until the mode changes (then answered under the new mode)', async () => {
      wp.setMode('stall', { count: 1 });
      const p = post(s);
      await wp.waitFor((ps) => ps.length === 1 && ps[0].stalled);
      assert.equal(await Promise.race([p.then(() => 'answered'), sleep(300).then(() => 'waiting')]), 'waiting');
      assert.equal(wp.stats().held, 1);
      assert.equal((await post(s)).status, 200); // count 1: the next one is answered
      wp.setMode('error');
      assert.equal((await p).status, 500);
      assert.equal(wp.stats().held, 0);
    });

    test('a client that gives up on a stalled request is recorded as cancelled', async () => {
      wp.setMode('stall');
      const req = s.request({ ':method': 'POST', ':path': PUSH_PATH, authorization: KEY, 'content-type': 'application/json' });
      req.on('error', () => {});
      req.end(JSON.stringify({ passTypeIdentifier: PTID, pushTokens: ['z'] }));
      await wp.waitFor((ps) => ps.some((r) => r.stalled));
      req.close(http2.constants.NGHTTP2_CANCEL);
      const rec = await wp.waitFor((ps) => ps.find((r) => r.cancelled));
      assert.equal(rec.status, null);
      assert.equal(wp.stats().held, 0);
    });

    test('bad modes and options are refused', () => {
      assert.throws(() => wp.setMode('sometimes'), /unknown mode/);
      assert.throws(() => wp.setMode('error', { count: 0 }), /count/);
      assert.throws(() => wp.setMode('tooMany', { retryAfter: -1 }), /retryAfter/);
    });
  });
});

test('results: false answers 200 with an empty body', async () => {
  const wp = await startFakeWalletPasses({ certFile: certs.localhost, keyFile: certs.localhostKey, apiKey: KEY, results: false });
  const s = await connect(wp.url);
  const r = await post(s);
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  s.destroy();
  await wp.stop();
});

test('an API key is required to start', async () => {
  await assert.rejects(startFakeWalletPasses({ certFile: certs.localhost, keyFile: certs.localhostKey }), /apiKey is required/);
});

test('command line: "listening", one JSON line per request, modes and token errors on stdin', async () => {
  const child = spawn(process.execPath, [path.join(HERE, 'walletpasses.js'), '--cert', certs.localhost, '--key', certs.localhostKey,
    '--api-key', KEY, '--port', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let buf = '';
  child.stdout.on('data', (c) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop();
    lines.push(...parts);
  });
  const waitLine = (re, from = 0) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const l = lines.slice(from).find((x) => re.test(x));
        if (l) resolve(l);
        else if (child.exitCode != null) reject(new Error(`exited ${child.exitCode}: ${lines.join('\n')}`));
        else setTimeout(check, 20);
      };
      check();
    });
  try {
    const m = /^listening (https:\/\/127\.0\.0\.1:\d+)$/.exec(await waitLine(/^listening /));
    assert.ok(m);
    const s = await connect(m[1]);
    assert.equal((await post(s)).status, 200);
    const logged = JSON.parse(await waitLine(/"status":200/));
    assert.deepEqual(logged.tokens, ['tok-a', 'tok-b']);
    assert.equal(logged.authorization, KEY);
    child.stdin.write('{"mode":"tooMany","opts":{"count":1,"retryAfter":3}}\n{"tokenErrors":{"tok-a":"InvalidRegistration"}}\n');
    child.stdin.write('{"stats":true}\n');
    await waitLine(/^\{"stats"/);
    assert.equal((await post(s)).status, 429);
    const r = await post(s);
    assert.deepEqual(r.json.results[0], { error: 'InvalidRegistration' });
    const from = lines.length;
    child.stdin.write('{"stats":true}\n');
    const st = JSON.parse(await waitLine(/^\{"stats"/, from));
    assert.equal(st.stats.requests, 3);
    assert.equal(st.mode.name, 'ok');
    s.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode != null ? resolve() : child.once('exit', resolve)));
  }
  assert.equal(child.exitCode, 0);
});

test('command line: missing --api-key → usage and exit 2', async () => {
  const child = spawn(process.execPath, [path.join(HERE, 'walletpasses.js'), '--cert', certs.localhost, '--key', certs.localhostKey],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  assert.equal(await new Promise((resolve) => child.once('exit', resolve)), 2);
  assert.match(err, /usage: node tests\/fakes\/walletpasses\.js/);
});
