// Public self-registration.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, newPhone, luhnValid, allTransactions, expectError } from './harness.js';

let srv, owner, anon;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  anon = srv.anon();
});
after(async () => { await srv?.stop(); });

async function countByPhone(phone) {
  const r = await owner.get(`/api/v1/customers?query=${encodeURIComponent(phone)}`);
  assert.equal(r.status, 200);
  return r.body.items.length;
}

async function totalCustomers() {
  let n = 0;
  let cursor = null;
  do {
    const r = await owner.get(`/api/v1/customers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    n += r.body.items.length;
    cursor = r.body.nextCursor;
  } while (cursor);
  return n;
}

test('happy path: 201 with the customer, welcome bonus in the balance and a welcome transaction', async () => {
  const t0 = Date.now();
  const res = await anon.post('/api/v1/register', {
    name: 'Анна Петрова', phone: '8 (912) 345-67-89', email: 'anna@example.com', birthday: '1990-05-17', consent: true, consentVersion: '2026-01',
  });
  assert.equal(res.status, 201, res.text);
  const c = res.body;
  assert.equal(c.name, 'Анна Петрова');
  assert.equal(c.phone, '+79123456789');
  assert.equal(c.email, 'anna@example.com');
  assert.equal(c.birthday, '1990-05-17');
  assert.equal(c.balance, 100);
  assert.equal(c.totalSpent, 0);
  assert.equal(c.status, 'active');
  assert.equal(c.source, 'web');
  assert.ok(luhnValid(c.cardNumber), `card number ${c.cardNumber} has a valid Luhn digit`);
  assert.equal(c.consent.version, '2026-01');
  assert.equal(c.consent.ip, '127.0.0.1');
  assert.ok(Math.abs(Date.parse(c.consent.acceptedAt) - t0) < 60000);
  assert.ok(Math.abs(Date.parse(c.registrationDate) - t0) < 60000);
  const txs = await allTransactions(owner, c.id);
  assert.equal(txs.length, 1);
  assert.equal(txs[0].type, 'welcome');
  assert.equal(txs[0].amount, 100);
  assert.equal(txs[0].balanceAfter, 100);
  assert.equal(txs[0].channel, 'web');
  const got = await owner.get(`/api/v1/customers/${c.id}`);
  assert.deepEqual(got.body.id, c.id);
  assert.equal(got.body.balance, 100);
});

test('minimal registration: email and birthday null, default consent version', async () => {
  const res = await anon.post('/api/v1/register', { name: 'Min', phone: newPhone(), consent: true });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.email, null);
  assert.equal(res.body.birthday, null);
  assert.ok(res.body.consent && res.body.consent.version.length > 0);
});

test('consent false, missing, or not a boolean → 400 field consent; nothing created', async () => {
  for (const consent of [false, undefined, 'true', 1, null]) {
    const phone = newPhone();
    const body = { name: 'No Consent', phone };
    if (consent !== undefined) body.consent = consent;
    expectError(await anon.post('/api/v1/register', body), 400, 'validation_failed', 'consent');
    assert.equal(await countByPhone(phone), 0);
  }
});

test('duplicate phone in any format → 409 that discloses nothing about the owner', async () => {
  const first = await anon.post('/api/v1/register', { name: 'Secret Owner Name', phone: '+7 999 111 22 33', email: 'secret-owner@example.com', consent: true });
  assert.equal(first.status, 201, first.text);
  const before = await totalCustomers();
  for (const phone of ['+79991112233', '8 (999) 111-22-33', '9991112233', '+7 (999) 111-22-33', '8-999-111-22-33']) {
    const res = await anon.post('/api/v1/register', { name: 'Impostor', phone, consent: true });
    expectError(res, 409, 'conflict');
    for (const secret of ['Secret', 'Owner', 'secret-owner', String(first.body.id), first.body.cardNumber]) {
      assert.ok(!res.text.includes(secret), `409 body discloses ${secret}: ${res.text}`);
    }
  }
  assert.equal(await totalCustomers(), before);
  // Staff creation also sees the duplicate.
  expectError(await owner.post('/api/v1/customers', { name: 'Dup', phone: '89991112233' }), 409, 'conflict', 'phone');
});

test('invalid phone → 400 field phone; nothing created', async () => {
  const before = await totalCustomers();
  for (const phone of ['', '123', 'abcdefghij', '+7 912 345 67 89 00 11 22', '+0123456789', '+79123456789x', '☎79123456789', 12345678901]) {
    expectError(await anon.post('/api/v1/register', { name: 'Bad Phone', phone, consent: true }), 400, 'validation_failed', 'phone');
  }
  assert.equal(await totalCustomers(), before);
});

test('invalid email → 400 field email', async () => {
  for (const email of ['not-an-email', 'a@', '@b.ru', 'a b@c.ru', 42, `${'x'.repeat(250)}@example.com`]) {
    const phone = newPhone();
    expectError(await anon.post('/api/v1/register', { name: 'Bad Email', phone, email, consent: true }), 400, 'validation_failed', 'email');
    assert.equal(await countByPhone(phone), 0);
  }
});

test('invalid birthday → 400 field birthday', async () => {
  const future = new Date(Date.now() + 86400000 * 3).toISOString().slice(0, 10);
  for (const birthday of ['1990-02-30', '1990-13-01', '17.05.1990', '1990-5-7', future, '1850-01-01', '1990-05-17T00:00:00Z', 19900517]) {
    const phone = newPhone();
    expectError(await anon.post('/api/v1/register', { name: 'Bad Birthday', phone, birthday, consent: true }), 400, 'validation_failed', 'birthday');
    assert.equal(await countByPhone(phone), 0);
  }
});

test('missing name, blank name, overlong name, unknown field → 400 naming it', async () => {
  const phone = newPhone();
  expectError(await anon.post('/api/v1/register', { phone, consent: true }), 400, 'validation_failed', 'name');
  expectError(await anon.post('/api/v1/register', { name: '   ', phone, consent: true }), 400, 'validation_failed', 'name');
  expectError(await anon.post('/api/v1/register', { name: 'x'.repeat(201), phone, consent: true }), 400, 'validation_failed', 'name');
  expectError(await anon.post('/api/v1/register', { name: 'Ok', consent: true }), 400, 'validation_failed', 'phone');
  expectError(await anon.post('/api/v1/register', { name: 'Ok', phone, consent: true, balance: 1000000 }), 400, 'validation_failed', 'balance');
  expectError(await anon.post('/api/v1/register', { name: 'Ok', phone, consent: true, status: 'active' }), 400, 'validation_failed', 'status');
  assert.equal(await countByPhone(phone), 0);
});

test('a name of exactly 200 characters is accepted', async () => {
  const res = await anon.post('/api/v1/register', { name: 'Я'.repeat(200), phone: newPhone(), consent: true });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.name, 'Я'.repeat(200));
});

test('rate limit: with LOY_REGISTER_RATE=5 the 6th registration in a minute → 429 with Retry-After', async () => {
  const limited = await startServer({ registerRate: 5 });
  try {
    const c = limited.anon();
    for (let i = 0; i < 5; i++) {
      const r = await c.post('/api/v1/register', { name: `Rate ${i}`, phone: newPhone(), consent: true });
      assert.equal(r.status, 201, `registration ${i + 1}: ${r.text}`);
    }
    const phone = newPhone();
    const sixth = await c.post('/api/v1/register', { name: 'Rate 6', phone, consent: true });
    expectError(sixth, 429, 'rate_limited');
    const ra = Number(sixth.headers['retry-after']);
    assert.ok(Number.isInteger(ra) && ra >= 1 && ra <= 60, `Retry-After ${sixth.headers['retry-after']}`);
    const o = await limited.owner();
    const r = await o.get(`/api/v1/customers?query=${encodeURIComponent(phone)}`);
    assert.deepEqual(r.body.items, [], 'the limited registration created nothing');
    // Staff routes are not affected by the registration limit.
    assert.equal((await o.post('/api/v1/customers', { name: 'Staff Made', phone: newPhone() })).status, 201);
  } finally {
    await limited.stop();
  }
});

test('behind a trusted proxy the limit counts per X-Real-IP; from anyone else the header is ignored', async () => {
  const proxied = await startServer({ registerRate: 2, env: { LOY_TRUSTED_PROXIES: '10.9.9.9, 127.0.0.1' } });
  const direct = await startServer({ registerRate: 2 });
  try {
    const reg = (c, ip) => c.post('/api/v1/register', { name: 'Proxied', phone: newPhone(), consent: true },
      { headers: { 'X-Real-IP': ip } });
    const p = proxied.anon();
    for (let i = 0; i < 2; i++) assert.equal((await reg(p, '203.0.113.7')).status, 201);
    expectError(await reg(p, '203.0.113.7'), 429, 'rate_limited');
    // Another client behind the same proxy has its own budget.
    const other = await reg(p, '2001:db8::42');
    assert.equal(other.status, 201, other.text);
    assert.equal(other.body.consent.ip, '2001:db8::42', 'the consent records the real client address');
    // Not an address: the proxy's own address is used (and its budget is fresh).
    const junk = await reg(p, 'not-an-ip');
    assert.equal(junk.body.consent.ip, '127.0.0.1');
    // Without LOY_TRUSTED_PROXIES a client cannot dodge the limit by inventing addresses.
    const d = direct.anon();
    assert.equal((await reg(d, '198.51.100.1')).status, 201);
    const second = await reg(d, '198.51.100.2');
    assert.equal(second.status, 201);
    assert.equal(second.body.consent.ip, '127.0.0.1');
    expectError(await reg(d, '198.51.100.3'), 429, 'rate_limited');
  } finally {
    await proxied.stop();
    await direct.stop();
  }
});
