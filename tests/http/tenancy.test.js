// Two businesses on one install: neither credential ever reaches the other's data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, snapshot, lastInt, expectError } from './harness.js';

let srv, a, aKey, b, bKey, A, B;
const B_PASSWORD = 'second-owner-password';

async function fixtures(client, tag) {
  const cust = await createCustomer(client, { name: `${tag} Customer`, email: `${tag.toLowerCase()}@example.com`, tags: [`tag-${tag}`] });
  const tx = await client.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 40, orderId: `order-${tag}` });
  assert.equal(tx.status, 201, tx.text);
  const user = await client.post('/api/v1/users', { email: `cashier-${tag.toLowerCase()}@test.loy`, password: 'password-123', role: 'cashier' });
  assert.equal(user.status, 201, user.text);
  const key = await client.post('/api/v1/apikeys', { name: `${tag} key`, role: 'viewer' });
  assert.equal(key.status, 201, key.text);
  return { cust, tx: tx.body, user: user.body, key: key.body };
}

before(async () => {
  srv = await startServer();
  const bid = lastInt(await srv.cliOk(['business', 'add', '--name', 'Second Shop', '--slug', 'second']));
  assert.ok(bid > 0);
  await srv.cliOk(['user', 'add', '--email', 'owner-b@test.loy', '--role', 'owner', '--business', 'second'], `${B_PASSWORD}\n`);
  const keyB = (await srv.cliOk(['apikey', 'create', '--name', 'B pos', '--role', 'owner', '--business', 'second'])).split('\n').pop().trim();
  const keyA = (await srv.cliOk(['apikey', 'create', '--name', 'A pos', '--role', 'owner'])).split('\n').pop().trim();
  a = await srv.owner();
  b = await srv.login('owner-b@test.loy', B_PASSWORD);
  aKey = srv.anon();
  await aKey.useApiKey(keyA);
  bKey = srv.anon();
  await bKey.useApiKey(keyB);
  A = await fixtures(a, 'Alpha');
  B = await fixtures(b, 'Beta');
});
after(async () => { await srv?.stop(); });

test('each owner sees their own business in /auth/me', async () => {
  assert.equal((await a.get('/api/v1/auth/me')).body.business.slug, 'demo');
  const me = await b.get('/api/v1/auth/me');
  assert.equal(me.body.business.slug, 'second');
  assert.equal(me.body.business.name, 'Second Shop');
  assert.equal((await b.get('/api/v1/settings')).body.slug, 'second');
});

test("every id of business B used with A's credentials → 404, and B's data is unchanged", async () => {
  const before = await snapshot(b, B.cust.id);
  for (const c of [a, aKey]) {
    const id = B.cust.id;
    expectError(await c.get(`/api/v1/customers/${id}`), 404, 'not_found');
    expectError(await c.patch(`/api/v1/customers/${id}`, { name: 'Hijacked' }), 404, 'not_found');
    expectError(await c.get(`/api/v1/customers/${id}/transactions`), 404, 'not_found');
    expectError(await c.post(`/api/v1/customers/${id}/transactions`, { type: 'debit', amount: 10 }), 404, 'not_found');
    expectError(await c.post(`/api/v1/customers/${id}/transactions`, { type: 'credit', amount: 10 }), 404, 'not_found');
    expectError(await c.post(`/api/v1/transactions/${B.tx.id}/reverse`, {}), 404, 'not_found');
    expectError(await c.get(`/api/v1/cards/${B.cust.cardNumber}`), 404, 'not_found');
    expectError(await c.post('/api/v1/pos/purchase', { card: B.cust.cardNumber, purchaseAmount: 10000, redeem: 10, orderId: `x-${Math.random()}` }), 404, 'not_found');
    expectError(await c.post('/api/v1/pos/purchase', { phone: B.cust.phone, purchaseAmount: 10000, orderId: `y-${Math.random()}` }), 404, 'not_found');
    expectError(await c.get(`/api/v1/users/${B.user.id}`), 404, 'not_found');
    expectError(await c.patch(`/api/v1/users/${B.user.id}`, { disabled: true }), 404, 'not_found');
    expectError(await c.del(`/api/v1/users/${B.user.id}`), 404, 'not_found');
    expectError(await c.del(`/api/v1/apikeys/${B.key.id}`), 404, 'not_found');
    expectError(await c.del(`/api/v1/customers/${id}`), 404, 'not_found');
  }
  assert.deepEqual(await snapshot(b, B.cust.id), before, "B's customer and ledger unchanged");
  const users = (await b.get('/api/v1/users')).body.items;
  assert.equal(users.find((u) => u.id === B.user.id).disabled, false);
  const keys = (await b.get('/api/v1/apikeys')).body.items;
  assert.equal(keys.find((k) => k.id === B.key.id).revokedAt, null);
});

test("B's credentials cannot reach A's ids either", async () => {
  for (const c of [b, bKey]) {
    expectError(await c.get(`/api/v1/customers/${A.cust.id}`), 404, 'not_found');
    expectError(await c.get(`/api/v1/cards/${A.cust.cardNumber}`), 404, 'not_found');
    expectError(await c.post(`/api/v1/transactions/${A.tx.id}/reverse`, {}), 404, 'not_found');
    expectError(await c.get(`/api/v1/users/${srv.ownerId}`), 404, 'not_found');
  }
});

test('lists and searches never show the other business', async () => {
  for (const [c, mine, theirs] of [[a, A, B], [aKey, A, B], [b, B, A], [bKey, B, A]]) {
    const list = await c.get('/api/v1/customers?limit=100');
    const ids = list.body.items.map((x) => x.id);
    assert.ok(ids.includes(mine.cust.id));
    assert.ok(!ids.includes(theirs.cust.id));
    for (const q of [theirs.cust.name, theirs.cust.phone, theirs.cust.email, theirs.cust.cardNumber]) {
      const r = await c.get(`/api/v1/customers?query=${encodeURIComponent(q)}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.items.map((x) => x.id).filter((x) => x === theirs.cust.id), [], `query ${q}`);
    }
    const byTag = await c.get(`/api/v1/customers?tag=${encodeURIComponent(theirs.cust.tags[0])}`);
    assert.deepEqual(byTag.body.items, []);
    const users = (await c.get('/api/v1/users')).body.items.map((x) => x.id);
    assert.ok(users.includes(mine.user.id) && !users.includes(theirs.user.id));
    const keys = (await c.get('/api/v1/apikeys')).body.items.map((x) => x.id);
    assert.ok(keys.includes(mine.key.id) && !keys.includes(theirs.key.id));
  }
});

test("templates: B's template is 404 for A, and lists stay apart", async () => {
  const ta = await a.post('/api/v1/templates', { name: 'Alpha Template' });
  assert.equal(ta.status, 201, ta.text);
  const tb = await b.post('/api/v1/templates', { name: 'Beta Template' });
  assert.equal(tb.status, 201, tb.text);
  const before = (await b.get(`/api/v1/templates/${tb.body.id}`)).body;
  for (const c of [a, aKey]) {
    expectError(await c.get(`/api/v1/templates/${tb.body.id}`), 404, 'not_found');
    expectError(await c.patch(`/api/v1/templates/${tb.body.id}`, { name: 'Hijacked' }), 404, 'not_found');
    expectError(await c.patch(`/api/v1/templates/${tb.body.id}`, { isDefault: true }), 404, 'not_found');
    expectError(await c.del(`/api/v1/templates/${tb.body.id}`), 404, 'not_found');
  }
  assert.deepEqual((await b.get(`/api/v1/templates/${tb.body.id}`)).body, before);
  for (const [c, mine, theirs] of [[a, ta.body, tb.body], [bKey, tb.body, ta.body]]) {
    const ids = (await c.get('/api/v1/templates')).body.items.map((x) => x.id);
    assert.ok(ids.includes(mine.id) && !ids.includes(theirs.id));
  }
});

test('phones and orderIds are unique per business, not per install', async () => {
  const same = await b.post('/api/v1/customers', { name: 'Same Phone In B', phone: A.cust.phone });
  assert.equal(same.status, 201, same.text);
  const tx = await b.post(`/api/v1/customers/${same.body.id}/transactions`, { type: 'credit', amount: 1, orderId: 'order-Alpha' });
  assert.equal(tx.status, 201, tx.text);
});

test('settings are per business', async () => {
  const r = await b.put('/api/v1/settings', { loyaltySettings: { welcomeBonus: 7 } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await a.get('/api/v1/settings')).body.loyaltySettings.welcomeBonus, 100);
  const cust = await createCustomer(b, { name: 'B Welcome' });
  assert.equal(cust.balance, 7);
});

test('self-registration with ?business= lands in that business only', async () => {
  const anon = srv.anon();
  const r = await anon.post('/api/v1/register?business=second', { name: 'Registered In B', phone: '+79000000777', consent: true });
  assert.equal(r.status, 201, r.text);
  expectError(await a.get(`/api/v1/customers/${r.body.id}`), 404, 'not_found');
  assert.equal((await b.get(`/api/v1/customers/${r.body.id}`)).status, 200);
  expectError(await anon.post('/api/v1/register?business=no-such-shop', { name: 'Nowhere', phone: '+79000000778', consent: true }), 404, 'not_found');
});
