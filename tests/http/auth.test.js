// Staff sessions, CSRF, API keys and JWTs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, OWNER_EMAIL, OWNER_PASSWORD, newPhone, expectError } from './harness.js';

let srv;
before(async () => { srv = await startServer(); });
after(async () => { await srv?.stop(); });

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const unb64 = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

async function customerCount(client, phone) {
  const r = await client.get(`/api/v1/customers?query=${encodeURIComponent(phone)}`);
  assert.equal(r.status, 200);
  return r.body.items.length;
}

test('login: good password → 200 with user, CSRF token and a strict session cookie', async () => {
  const c = srv.anon();
  const res = await c.post('/api/v1/auth/login', { email: OWNER_EMAIL, password: OWNER_PASSWORD });
  assert.equal(res.status, 200);
  assert.equal(res.body.user.email, OWNER_EMAIL);
  assert.equal(res.body.user.role, 'owner');
  assert.equal(res.body.user.disabled, false);
  const cookie = res.headers['set-cookie'].find((s) => s.startsWith('loy_session='));
  assert.ok(cookie, 'a loy_session cookie is set');
  const attrs = cookie.split(';').map((s) => s.trim().toLowerCase());
  assert.ok(attrs.includes('httponly'), `HttpOnly: ${cookie}`);
  assert.ok(attrs.includes('samesite=strict'), `SameSite=Strict: ${cookie}`);
  assert.ok(attrs.includes('path=/'), `Path=/: ${cookie}`);
  assert.ok(!attrs.includes('secure'), `no Secure over http: ${cookie}`);
  assert.ok(cookie.split(';')[0].length > 'loy_session='.length + 20, 'the session token is long');
});

test('login: wrong password and unknown email get the same 401', async () => {
  const c = srv.anon();
  const a = await c.post('/api/v1/auth/login', { email: OWNER_EMAIL, password: 'wrong-password-1' });
  const b = await c.post('/api/v1/auth/login', { email: 'nobody@test.loy', password: 'wrong-password-1' });
  expectError(a, 401, 'unauthorized');
  expectError(b, 401, 'unauthorized');
  assert.deepEqual(a.body, b.body, 'the two failures are indistinguishable');
  assert.equal(a.headers['set-cookie'], undefined, 'no cookie on failure');
});

test('login: missing or mistyped fields → 400 naming the field', async () => {
  const c = srv.anon();
  expectError(await c.post('/api/v1/auth/login', { email: OWNER_EMAIL }), 400, 'validation_failed', 'password');
  expectError(await c.post('/api/v1/auth/login', { password: 'x' }), 400, 'validation_failed', 'email');
  expectError(await c.post('/api/v1/auth/login', { email: OWNER_EMAIL, password: 12345678 }), 400, 'validation_failed', 'password');
  expectError(await c.post('/api/v1/auth/login', { email: OWNER_EMAIL, password: OWNER_PASSWORD, remember: true }), 400, 'validation_failed', 'remember');
});

test('/auth/me returns the user, the business and the CSRF token', async () => {
  const c = await srv.login();
  const res = await c.get('/api/v1/auth/me');
  assert.equal(res.status, 200);
  assert.equal(res.body.user.email, OWNER_EMAIL);
  assert.equal(res.body.business.slug, 'demo');
  assert.equal(res.body.csrfToken, c.csrfToken);
  assert.notEqual(res.body.user.lastLoginAt, null, 'lastLoginAt is set after a login');
});

test('no credentials → 401 on every protected route', async (t) => {
  const c = srv.anon();
  const routes = [
    ['GET', '/api/v1/auth/me'], ['GET', '/api/v1/customers'], ['POST', '/api/v1/customers'],
    ['GET', '/api/v1/customers/1'], ['PATCH', '/api/v1/customers/1'], ['DELETE', '/api/v1/customers/1'],
    ['GET', '/api/v1/customers/1/transactions'], ['POST', '/api/v1/customers/1/transactions'],
    ['POST', '/api/v1/transactions/1/reverse'], ['GET', '/api/v1/cards/000000000'], ['POST', '/api/v1/pos/purchase'],
    ['GET', '/api/v1/templates'], ['POST', '/api/v1/templates'], ['GET', '/api/v1/templates/1'],
    ['PATCH', '/api/v1/templates/1'], ['DELETE', '/api/v1/templates/1'], ['GET', '/api/v1/settings'],
    ['PUT', '/api/v1/settings'], ['GET', '/api/v1/users'], ['POST', '/api/v1/users'], ['GET', '/api/v1/users/1'],
    ['PATCH', '/api/v1/users/1'], ['DELETE', '/api/v1/users/1'], ['GET', '/api/v1/apikeys'],
    ['POST', '/api/v1/apikeys'], ['DELETE', '/api/v1/apikeys/1'], ['POST', '/api/v1/auth/logout'],
  ];
  for (const [m, p] of routes) {
    await t.test(`${m} ${p}`, async () => {
      const body = ['POST', 'PUT', 'PATCH'].includes(m) ? {} : undefined;
      expectError(await c.request(m, p, { body }), 401, 'unauthorized');
    });
  }
});

test('CSRF: a cookie-authenticated unsafe request without or with a wrong X-CSRF-Token → 403, nothing created', async () => {
  const c = await srv.login();
  const phone = newPhone();
  const body = { name: 'Csrf Victim', phone };
  expectError(await c.post('/api/v1/customers', body, { csrf: false }), 403, 'forbidden');
  expectError(await c.post('/api/v1/customers', body, { csrf: 'not-the-token-0123456789abcdef' }), 403, 'forbidden');
  expectError(await c.post('/api/v1/customers', body, { csrf: '' }), 403, 'forbidden');
  assert.equal(await customerCount(c, phone), 0, 'no customer was created');
  // Another session's token is wrong for this session too.
  const other = await srv.login();
  expectError(await c.post('/api/v1/customers', body, { csrf: other.csrfToken }), 403, 'forbidden');
  assert.equal(await customerCount(c, phone), 0);
  // Logout needs the token as well.
  expectError(await c.post('/api/v1/auth/logout', undefined, { csrf: false }), 403, 'forbidden');
  assert.equal((await c.get('/api/v1/auth/me')).status, 200, 'the session survived');
  const ok = await c.post('/api/v1/customers', body);
  assert.equal(ok.status, 201);
  assert.equal(await customerCount(c, phone), 1);
});

test('logout invalidates the session server-side', async () => {
  const c = await srv.login();
  const cookie = c.cookie;
  const res = await c.post('/api/v1/auth/logout');
  assert.equal(res.status, 204);
  // Replay the old cookie explicitly: it must be dead, not just cleared in the client.
  c.cookie = cookie;
  expectError(await c.get('/api/v1/auth/me'), 401, 'unauthorized');
  expectError(await c.get('/api/v1/customers'), 401, 'unauthorized');
  // Other sessions of the same user are not affected.
  const d = await srv.login();
  assert.equal((await d.get('/api/v1/auth/me')).status, 200);
});

test('a forged session cookie → 401', async () => {
  const c = srv.anon();
  c.cookie = crypto.randomBytes(32).toString('base64url');
  expectError(await c.get('/api/v1/auth/me'), 401, 'unauthorized');
  c.cookie = 'x';
  expectError(await c.get('/api/v1/customers'), 401, 'unauthorized');
});

test('token exchange: a good key gives a 900 s bearer JWT that works without CSRF', async () => {
  const owner = await srv.owner();
  const created = await owner.post('/api/v1/apikeys', { name: 'POS till 1', role: 'cashier' });
  assert.equal(created.status, 201);
  assert.match(created.body.key, /^loy_/);
  assert.ok(created.body.key.startsWith(created.body.prefix) || created.body.key.startsWith(`loy_${created.body.prefix}`), 'the key starts with its prefix');
  const c = srv.anon();
  const tok = await c.post('/api/v1/auth/token', { apiKey: created.body.key });
  assert.equal(tok.status, 200);
  assert.equal(tok.body.tokenType, 'Bearer');
  assert.equal(tok.body.expiresIn, 900);
  c.bearer = tok.body.accessToken;
  const payload = unb64(c.bearer.split('.')[1]);
  assert.ok(typeof payload.exp === 'number' && payload.exp - Date.now() / 1000 <= 905 && payload.exp - Date.now() / 1000 > 800, `exp about 900 s ahead: ${JSON.stringify(payload)}`);
  assert.equal((await c.get('/api/v1/customers')).status, 200);
  const made = await c.post('/api/v1/customers', { name: 'Via Bearer', phone: newPhone() });
  assert.equal(made.status, 201);
  assert.equal(made.body.source, 'api');
  // lastUsedAt is recorded.
  const list = await owner.get('/api/v1/apikeys');
  const k = list.body.items.find((x) => x.id === created.body.id);
  assert.ok(k, 'the key is listed');
  assert.equal(k.revokedAt, null);
  assert.ok(!JSON.stringify(list.body).includes(created.body.key), 'the secret is never listed');
});

test('token exchange: bad keys → 401, bad bodies → 400', async () => {
  const c = srv.anon();
  expectError(await c.post('/api/v1/auth/token', { apiKey: 'loy_' + 'a'.repeat(40) }), 401, 'unauthorized');
  expectError(await c.post('/api/v1/auth/token', { apiKey: 'garbage' }), 401, 'unauthorized');
  expectError(await c.post('/api/v1/auth/token', {}), 400, 'validation_failed', 'apiKey');
  expectError(await c.post('/api/v1/auth/token', { apiKey: 42 }), 400, 'validation_failed', 'apiKey');
});

test('tampered, garbage, alg=none and wrongly signed JWTs → 401', async () => {
  const k = await srv.apiKeyClient('viewer');
  const good = k.bearer;
  const [h, p, s] = good.split('.');
  const payload = unb64(p);
  const forged = { ...payload, role: 'owner', scope: 'owner' };
  const c = srv.anon();
  const attempts = {
    tamperedPayload: `${h}.${b64url(JSON.stringify(forged))}.${s}`,
    flippedSignature: `${h}.${p}.${s.slice(0, -2)}${s.slice(-2) === 'AA' ? 'BB' : 'AA'}`,
    noSignature: `${h}.${p}.`,
    algNone: `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${p}.`,
    randomKey: (() => {
      const hh = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
      const sig = crypto.createHmac('sha256', crypto.randomBytes(32)).update(`${hh}.${p}`).digest('base64url');
      return `${hh}.${p}.${sig}`;
    })(),
    garbage: 'garbage',
    empty: '',
  };
  for (const [what, tok] of Object.entries(attempts)) {
    c.bearer = null;
    const res = await c.get('/api/v1/customers', { headers: { Authorization: `Bearer ${tok}` } });
    expectError(res, 401, 'unauthorized');
    assert.ok(res, what);
  }
  expectError(await c.get('/api/v1/customers', { headers: { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, 'unauthorized');
  expectError(await c.get('/api/v1/customers', { headers: { Authorization: good } }), 401, 'unauthorized');
  // The good one still works.
  assert.equal((await k.get('/api/v1/customers')).status, 200);
});

test('an expired JWT → 401', async (t) => {
  const k = await srv.apiKeyClient('viewer');
  const [h, p, s] = k.bearer.split('.');
  const header = unb64(h);
  const payload = unb64(p);
  // The server signs with a key derived from LOY_SECRET_KEY; find which, by checking the real token.
  const alg = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[header.alg];
  const secret = srv.secretKey;
  const candidates = [Buffer.from(secret, 'hex'), Buffer.from(secret, 'utf8')];
  for (const label of ['jwt', 'loy-jwt', 'loy jwt', 'token', 'access-token']) {
    candidates.push(crypto.createHmac('sha256', Buffer.from(secret, 'hex')).update(label).digest());
    candidates.push(crypto.createHmac('sha256', label).update(Buffer.from(secret, 'hex')).digest());
  }
  const key = alg && candidates.find((key) => crypto.createHmac(alg, key).update(`${h}.${p}`).digest('base64url') === s);
  if (!key) {
    t.skip(`cannot mint an expired token: signing key derivation of ${header.alg} unknown to the test`);
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  const sign = (pl) => {
    const body = `${h}.${b64url(JSON.stringify(pl))}`;
    return `${body}.${crypto.createHmac(alg, key).update(body).digest('base64url')}`;
  };
  // Sanity: a re-signed, still valid copy is accepted, so the expired one fails for its exp alone.
  const c = srv.anon();
  c.bearer = sign({ ...payload });
  assert.equal((await c.get('/api/v1/customers')).status, 200, 're-signed valid token accepted');
  c.bearer = sign({ ...payload, iat: now - 2000, exp: now - 60 });
  expectError(await c.get('/api/v1/customers'), 401, 'unauthorized');
  c.bearer = sign({ ...payload, exp: undefined });
  expectError(await c.get('/api/v1/customers'), 401, 'unauthorized');
});

test('a revoked API key: its tokens → 401 at once, and it cannot be exchanged again', async () => {
  const k = await srv.apiKeyClient('cashier');
  assert.equal((await k.get('/api/v1/customers')).status, 200);
  const owner = await srv.owner();
  const del = await owner.del(`/api/v1/apikeys/${k.apiKey.id}`);
  assert.equal(del.status, 204);
  expectError(await k.get('/api/v1/customers'), 401, 'unauthorized');
  expectError(await k.post('/api/v1/customers', { name: 'After Revoke', phone: newPhone() }), 401, 'unauthorized');
  expectError(await srv.anon().post('/api/v1/auth/token', { apiKey: k.key }), 401, 'unauthorized');
  const list = await owner.get('/api/v1/apikeys');
  const row = list.body.items.find((x) => x.id === k.apiKey.id);
  assert.ok(row && row.revokedAt, 'the revoked key is listed with revokedAt');
});

test('/auth/me is for sessions: a bearer token gets 401 there', async () => {
  const k = await srv.apiKeyClient('owner');
  expectError(await k.get('/api/v1/auth/me'), 401, 'unauthorized');
});

test('login attempts are rate-limited per IP: with LOY_LOGIN_RATE=3 the 4th → 429 with Retry-After', async () => {
  const limited = await startServer({ loginRate: 3 });
  try {
    const c = limited.anon();
    for (let i = 0; i < 3; i++) {
      expectError(await c.post('/api/v1/auth/login', { email: OWNER_EMAIL, password: `wrong-${i}` }), 401, 'unauthorized');
    }
    const fourth = await c.post('/api/v1/auth/login', { email: OWNER_EMAIL, password: OWNER_PASSWORD });
    expectError(fourth, 429, 'rate_limited');
    assert.equal(fourth.headers['set-cookie'], undefined, 'no session while limited');
    const ra = Number(fourth.headers['retry-after']);
    assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After ${fourth.headers['retry-after']}`);
  } finally {
    await limited.stop();
  }
});
