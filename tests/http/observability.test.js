// Health, readiness, metrics, request ids and what the logs must never contain.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, OWNER_PASSWORD, DB_KIND, psql, expectError } from './harness.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

test('/healthz and /readyz answer ok without credentials', async () => {
  const c = srv.anon();
  const h = await c.get('/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(h.body, { status: 'ok' });
  const r = await c.get('/readyz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { status: 'ok' });
});

test('/metrics: Prometheus text with requests by route and status and a latency histogram', async () => {
  const c = srv.anon();
  const owner = await srv.owner();
  await owner.get('/api/v1/customers');
  await owner.get('/api/v1/customers/999999');
  await c.get('/api/v1/customers');
  const m = await c.get('/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers['content-type'], /^text\/plain/);
  const text = m.text;
  const series = text.split('\n').filter((l) => l.startsWith('loy_http_requests_total{'));
  assert.ok(series.length > 0, 'loy_http_requests_total series present');
  for (const l of series) {
    assert.match(l, /route="[^"]+"/, l);
    assert.match(l, /status="[1-5][0-9][0-9]"/, l);
    assert.match(l, /\} [0-9.e+]+$/, l);
  }
  const byRoute = (route, status) => series.find((l) => l.includes(`route="${route}"`) && l.includes(`status="${status}"`));
  assert.ok(byRoute('/api/v1/customers', 200), 'a 200 on /api/v1/customers is counted');
  assert.ok(byRoute('/api/v1/customers', 401), 'a 401 on /api/v1/customers is counted');
  assert.ok(byRoute('/api/v1/customers/{id}', 404), 'routes are labelled by pattern, not raw path');
  assert.ok(!series.some((l) => l.includes('999999')), 'no raw ids in labels');
  assert.match(text, /^loy_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} [0-9]+/m);
  assert.match(text, /^loy_http_request_duration_seconds_count/m);
  assert.match(text, /^loy_http_request_duration_seconds_sum/m);
  assert.match(text, /^# TYPE loy_http_requests_total counter$/m);
  assert.match(text, /^# TYPE loy_http_request_duration_seconds histogram$/m);
  // Ledger operations by type, and the outbox gauges the alert rules (deploy/prometheus-rules.yml) use.
  const ledger = (type) => Number((text.match(new RegExp(`^loy_ledger_operations_total\\{type="${type}"\\} ([0-9]+)$`, 'm')) || [])[1]);
  const before = ledger('credit');
  assert.ok(Number.isInteger(before), 'loy_ledger_operations_total{type="credit"} present');
  const cust = (await owner.post('/api/v1/customers', { name: 'Metrics', phone: '+79990007777' })).body;
  assert.equal((await owner.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 3 })).status, 201);
  const after = (await c.get('/metrics')).text;
  assert.equal(Number(after.match(/^loy_ledger_operations_total\{type="credit"\} ([0-9]+)$/m)[1]), before + 1);
  assert.match(after, /^# TYPE loy_outbox_depth gauge$/m);
  assert.match(after, /^loy_outbox_depth [0-9]+$/m);
  assert.match(after, /^loy_outbox_dead [0-9]+$/m);
  // Unknown paths do not create a label per path (cardinality).
  for (let i = 0; i < 5; i++) await c.get(`/no/such/path/${i}`);
  const m2 = await c.get('/metrics');
  assert.ok(!m2.text.includes('/no/such/path/'), 'unknown paths are not labelled by their raw path');
});

test('every response carries X-Request-Id; ids are unique; a well-formed client id is echoed', async () => {
  const c = srv.anon();
  const ids = new Set();
  for (const p of ['/healthz', '/readyz', '/metrics', '/api/v1/customers', '/nope', '/api/v1/auth/me']) {
    const r = await c.get(p);
    assert.ok(r.headers['x-request-id'], `${p}: X-Request-Id`);
    ids.add(r.headers['x-request-id']);
  }
  const bad = await c.post('/api/v1/register', '{broken');
  ids.add(bad.headers['x-request-id']);
  assert.equal(ids.size, 7, 'request ids are unique');
  const echo = await c.get('/healthz', { headers: { 'X-Request-Id': 'client-req-123' } });
  assert.equal(echo.headers['x-request-id'], 'client-req-123');
  const hostile = await c.get('/healthz', { headers: { 'X-Request-Id': 'a"b\\c{}' } });
  assert.notEqual(hostile.headers['x-request-id'], 'a"b\\c{}', 'a malformed client id is replaced');
});

test('log lines are JSON with the seed fields, and requests are logged with their id', async () => {
  const c = srv.anon();
  const r = await c.get('/api/v1/customers', { headers: { 'User-Agent': 'loy-test-agent/1.0' } });
  const rid = r.headers['x-request-id'];
  await sleep(300);
  const lines = srv.logs;
  assert.ok(lines.length > 0, 'the server logs to stdout');
  const nonJson = lines.filter((l) => !l.json || typeof l.json !== 'object');
  assert.deepEqual(nonJson.map((l) => l.raw), [], 'every stdout line is a JSON object');
  for (const { json } of lines) {
    assert.ok(typeof json.timestamp === 'string' && !Number.isNaN(Date.parse(json.timestamp)), `timestamp: ${JSON.stringify(json)}`);
    assert.ok(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'].includes(json.level), `level: ${JSON.stringify(json)}`);
    assert.equal(typeof json.message, 'string');
  }
  const mine = lines.filter((l) => l.json.requestId === rid);
  assert.ok(mine.length > 0, `a log line carries requestId ${rid}`);
  const access = mine.find((l) => typeof l.json.durationMs === 'number');
  assert.ok(access, 'the request log line has durationMs');
  assert.equal(access.json.ip, '127.0.0.1');
  assert.equal(access.json.userAgent, 'loy-test-agent/1.0');
});

test('no log line contains a password, API key, session token, CSRF token, JWT or full phone number', async () => {
  const anon = srv.anon();
  // A customer registers; staff sign in; a key is made and used; a wrong password is tried.
  const phone = '+79217654321';
  const reg = await anon.post('/api/v1/register', { name: 'Logged Person', phone: '8 (921) 765-43-21', email: 'private@example.com', consent: true });
  assert.equal(reg.status, 201, reg.text);
  const dup = await anon.post('/api/v1/register', { name: 'Dup', phone, consent: true });
  expectError(dup, 409, 'conflict');
  const owner = await srv.login();
  const badPw = 'WrongPassword-Secret-987';
  await anon.post('/api/v1/auth/login', { email: 'owner@test.loy', password: badPw });
  const staffPw = 'Staff-Password-Secret-555';
  const u = await owner.post('/api/v1/users', { email: 'logcheck@test.loy', password: staffPw, role: 'cashier' });
  assert.equal(u.status, 201);
  const staff = await srv.login('logcheck@test.loy', staffPw);
  const key = await owner.post('/api/v1/apikeys', { name: 'log check', role: 'cashier' });
  const pos = srv.anon();
  await pos.useApiKey(key.body.key);
  await pos.get(`/api/v1/customers?query=${encodeURIComponent(phone)}`);
  await pos.post('/api/v1/pos/purchase', { phone: '89217654321', purchaseAmount: 10000, orderId: 'log-1' });
  await pos.get(`/api/v1/cards/${reg.body.cardNumber}`);
  await owner.patch(`/api/v1/customers/${reg.body.id}`, { phone: '+79217654322' });
  await anon.post('/api/v1/auth/token', { apiKey: `${key.body.key}x` });
  await anon.get('/api/v1/customers', { headers: { Authorization: `Bearer ${pos.bearer}x` } });
  await sleep(300);
  const text = srv.logText();
  const secrets = {
    ownerPassword: OWNER_PASSWORD, wrongPassword: badPw, staffPassword: staffPw,
    apiKey: key.body.key, apiKeySecretPart: key.body.key.slice(key.body.prefix.length + 4),
    ownerSession: owner.cookie, staffSession: staff.cookie, csrf: owner.csrfToken, jwt: pos.bearer, jwtSignature: pos.bearer.split('.')[2],
    phoneE164: phone, phoneDigits: '79217654321', phoneNational: '9217654321', phoneNew: '9217654322', phoneFormatted: '765-43-21',
  };
  for (const [what, s] of Object.entries(secrets)) {
    assert.ok(s && s.length >= 8, `${what} is a usable probe`);
    const hit = srv.logs.find((l) => l.raw.includes(s));
    assert.ok(!hit, `a log line contains the ${what}: ${hit?.raw}`);
  }
  assert.ok(text.length > 0);
  for (const l of srv.stderr) {
    for (const [what, s] of Object.entries(secrets)) assert.ok(!l.includes(s), `stderr contains the ${what}: ${l}`);
  }
});

test('PostgreSQL gone → /readyz 503 unavailable, API 503, /healthz still 200; back when it returns', { skip: DB_KIND !== 'postgres' && 'PostgreSQL only (an open SQLite file cannot be taken away from a running server)' }, async () => {
  const owner = await srv.login();
  const c = srv.anon();
  await psql(`ALTER DATABASE ${srv.pgName} ALLOW_CONNECTIONS false`);
  try {
    await psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${srv.pgName}'`);
    let r;
    for (let i = 0; i < 50; i++) {
      r = await c.get('/readyz');
      if (r.status === 503) break;
      await sleep(100);
    }
    assert.equal(r.status, 503);
    assert.deepEqual(r.body, { status: 'unavailable' });
    assert.equal((await c.get('/healthz')).status, 200);
    expectError(await owner.get('/api/v1/customers'), 503, 'unavailable');
  } finally {
    await psql(`ALTER DATABASE ${srv.pgName} ALLOW_CONNECTIONS true`);
  }
  let ok = false;
  for (let i = 0; i < 100 && !ok; i++) {
    ok = (await c.get('/readyz')).status === 200;
    if (!ok) await sleep(100);
  }
  assert.ok(ok, '/readyz recovers');
  assert.equal((await owner.get('/api/v1/customers')).status, 200);
});
