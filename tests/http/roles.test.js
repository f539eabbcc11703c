// Every role boundary of the api.md table: a role below the route's minimum gets 403 and changes
// nothing; the minimum role itself gets past authorization.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, snapshot, newPhone, expectError } from './harness.js';

const RANK = { viewer: 0, cashier: 1, admin: 2, owner: 3 };
let srv, owner, fx;
const clients = {}; // role → [apiKeyClient, sessionClient]

before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  for (const role of ['viewer', 'cashier', 'admin']) {
    clients[role] = [await srv.apiKeyClient(role), await srv.staff(role)];
  }
  const cust = await createCustomer(owner, { name: 'Role Target' });
  const credit = await owner.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 50 });
  assert.equal(credit.status, 201, credit.text);
  const victim = await owner.post('/api/v1/users', { email: 'victim@test.loy', password: 'victim-password', role: 'viewer' });
  assert.equal(victim.status, 201, victim.text);
  const key = await owner.post('/api/v1/apikeys', { name: 'victim key', role: 'viewer' });
  assert.equal(key.status, 201, key.text);
  fx = { cust, tx: credit.body, user: victim.body, key: key.body };
});
after(async () => { await srv?.stop(); });

// [method, path(fx), body(fx), minimum role]
const ops = [
  ['GET', () => '/api/v1/customers', null, 'viewer'],
  ['POST', () => '/api/v1/customers', () => ({ name: 'Denied', phone: newPhone() }), 'cashier'],
  ['GET', (f) => `/api/v1/customers/${f.cust.id}`, null, 'viewer'],
  ['PATCH', (f) => `/api/v1/customers/${f.cust.id}`, () => ({ notes: 'changed by a lower role' }), 'admin'],
  ['DELETE', (f) => `/api/v1/customers/${f.cust.id}`, null, 'admin'],
  ['GET', (f) => `/api/v1/customers/${f.cust.id}/transactions`, null, 'viewer'],
  ['POST', (f) => `/api/v1/customers/${f.cust.id}/transactions`, () => ({ type: 'credit', amount: 5 }), 'cashier'],
  ['POST', (f) => `/api/v1/customers/${f.cust.id}/transactions`, () => ({ type: 'debit', amount: 5 }), 'cashier'],
  ['POST', (f) => `/api/v1/customers/${f.cust.id}/transactions`, () => ({ type: 'adjustment', amount: 5 }), 'admin'],
  ['POST', (f) => `/api/v1/transactions/${f.tx.id}/reverse`, () => ({}), 'admin'],
  ['GET', (f) => `/api/v1/cards/${f.cust.cardNumber}`, null, 'cashier'],
  ['POST', () => '/api/v1/pos/purchase', (f) => ({ card: f.cust.cardNumber, purchaseAmount: 10000, orderId: `deny-${Math.random()}` }), 'cashier'],
  ['GET', () => '/api/v1/settings', null, 'viewer'],
  ['PUT', () => '/api/v1/settings', () => ({ loyaltySettings: { welcomeBonus: 7 } }), 'admin'],
  ['GET', () => '/api/v1/users', null, 'admin'],
  ['POST', () => '/api/v1/users', () => ({ email: `denied-${Math.random()}@test.loy`, password: 'password-123', role: 'viewer' }), 'admin'],
  ['GET', (f) => `/api/v1/users/${f.user.id}`, null, 'admin'],
  ['PATCH', (f) => `/api/v1/users/${f.user.id}`, () => ({ name: 'Renamed' }), 'admin'],
  ['DELETE', (f) => `/api/v1/users/${f.user.id}`, null, 'admin'],
  ['GET', () => '/api/v1/apikeys', null, 'admin'],
  ['POST', () => '/api/v1/apikeys', () => ({ name: 'denied key', role: 'viewer' }), 'admin'],
  ['DELETE', (f) => `/api/v1/apikeys/${f.key.id}`, null, 'admin'],
];

const templateOps = [
  ['GET', () => '/api/v1/templates', null, 'viewer'],
  ['POST', () => '/api/v1/templates', () => ({ name: 'Denied template' }), 'admin'],
  ['GET', (f) => `/api/v1/templates/${f.tpl.id}`, null, 'viewer'],
  ['PATCH', (f) => `/api/v1/templates/${f.tpl.id}`, () => ({ name: 'Renamed by lower role' }), 'admin'],
  ['DELETE', (f) => `/api/v1/templates/${f.tpl.id}`, null, 'admin'],
];

async function denyAll(list) {
  for (const [method, p, b, min] of list) {
    for (const role of ['viewer', 'cashier', 'admin']) {
      if (RANK[role] >= RANK[min]) continue;
      for (const c of clients[role]) {
        const res = await c.request(method, p(fx), { body: b ? b(fx) : undefined });
        expectError(res, 403, 'forbidden');
      }
    }
  }
}

async function state() {
  return {
    cust: await snapshot(owner, fx.cust.id),
    settings: (await owner.get('/api/v1/settings')).body,
    users: (await owner.get('/api/v1/users')).body.items.map((u) => [u.id, u.name, u.role, u.disabled]),
    keys: (await owner.get('/api/v1/apikeys')).body.items.map((k) => [k.id, k.revokedAt]),
    customers: (await owner.get('/api/v1/customers?limit=100')).body.items.map((c) => c.id),
  };
}

test('a role below the minimum gets 403 forbidden on every route, and nothing changes', async () => {
  const before = await state();
  await denyAll(ops);
  const afterState = await state();
  assert.deepEqual(afterState, before, 'denied requests changed nothing');
});

test('template routes: role boundaries (viewer reads, admin writes)', async () => {
  const tpl = await owner.post('/api/v1/templates', { name: 'Role Template' });
  assert.equal(tpl.status, 201, tpl.text);
  fx.tpl = tpl.body;
  const before = (await owner.get('/api/v1/templates')).body;
  await denyAll(templateOps);
  assert.deepEqual((await owner.get('/api/v1/templates')).body, before, 'denied requests changed nothing');
  for (const [method, p, , min] of templateOps) {
    if (method !== 'GET') continue;
    for (const c of clients[min]) assert.equal((await c.get(p(fx))).status, 200);
  }
});

test('a role below the minimum is refused before its body is looked at', async () => {
  const [key] = clients.viewer;
  expectError(await key.post(`/api/v1/customers/${fx.cust.id}/transactions`, { nonsense: true }), 403, 'forbidden');
  expectError(await key.post('/api/v1/customers', '{not json', {}), 403, 'forbidden');
});

test('the minimum role gets past authorization on every route (read-only routes)', async () => {
  for (const [method, p, , min] of ops) {
    if (method !== 'GET') continue;
    for (const c of clients[min === 'owner' ? 'admin' : min]) {
      const res = await c.get(p(fx));
      assert.equal(res.status, 200, `${min} ${method} ${p(fx)}: ${res.status} ${res.text}`);
    }
  }
});

test('cashier: may create customers, credit, debit and use the POS; viewer may not look up cards', async () => {
  const [ck, cs] = clients.cashier;
  const cust = await createCustomer(ck, { name: 'Cashier Made' });
  assert.equal(cust.source, 'api');
  const viaSession = await createCustomer(cs, { name: 'Cashier Session Made' });
  assert.equal(viaSession.source, 'admin');
  const cr = await ck.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 10 });
  assert.equal(cr.status, 201);
  assert.equal(cr.body.channel, 'api');
  assert.match(cr.body.operatorId, /^apikey:[1-9][0-9]*$/);
  const dr = await cs.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'debit', amount: 5 });
  assert.equal(dr.status, 201);
  assert.equal(dr.body.channel, 'admin');
  assert.equal(dr.body.operatorId, `user:${cs.user.id}`);
  assert.equal((await ck.get(`/api/v1/cards/${cust.cardNumber}`)).status, 200);
  for (const c of clients.viewer) expectError(await c.get(`/api/v1/cards/${cust.cardNumber}`), 403, 'forbidden');
});

test('admin: may adjust, reverse, change settings and manage cashiers, but not create owners or admins', async () => {
  const [ak, as] = clients.admin;
  const adj = await ak.post(`/api/v1/customers/${fx.cust.id}/transactions`, { type: 'adjustment', amount: -1, description: 'fix' });
  assert.equal(adj.status, 201, adj.text);
  assert.equal(adj.body.amount, -1);
  const rev = await as.post(`/api/v1/transactions/${adj.body.id}/reverse`, {});
  assert.equal(rev.status, 201, rev.text);

  const usersBefore = (await owner.get('/api/v1/users')).body.items.length;
  for (const c of [ak, as]) {
    for (const role of ['owner', 'admin']) {
      expectError(await c.post('/api/v1/users', { email: `esc-${role}-${Math.random()}@test.loy`, password: 'password-123', role }), 403, 'forbidden');
      expectError(await c.post('/api/v1/apikeys', { name: `esc ${role}`, role }), 403, 'forbidden');
    }
    // ... nor promote a cashier, nor touch the owner.
    expectError(await c.patch(`/api/v1/users/${fx.user.id}`, { role: 'admin' }), 403, 'forbidden');
    expectError(await c.patch(`/api/v1/users/${srv.ownerId}`, { disabled: true }), 403, 'forbidden');
    expectError(await c.del(`/api/v1/users/${srv.ownerId}`), 403, 'forbidden');
  }
  const after = (await owner.get('/api/v1/users')).body;
  assert.equal(after.items.length, usersBefore, 'no user was created');
  const ownerRow = after.items.find((u) => String(u.id) === String(srv.ownerId));
  assert.ok(ownerRow && ownerRow.role === 'owner' && ownerRow.disabled === false, 'the owner is untouched');
  assert.equal(after.items.find((u) => u.id === fx.user.id).role, 'viewer');

  const made = await as.post('/api/v1/users', { email: `cashier-${Math.random()}@test.loy`, password: 'password-123', role: 'cashier' });
  assert.equal(made.status, 201, made.text);
  // The owner may create admins.
  const adm = await owner.post('/api/v1/users', { email: `admin-${Math.random()}@test.loy`, password: 'password-123', role: 'admin' });
  assert.equal(adm.status, 201, adm.text);
  assert.equal(adm.body.role, 'admin');
});
