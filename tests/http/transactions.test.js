// The points ledger: credit, debit, adjustment, reversal, idempotency, orderId.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, snapshot, allTransactions, expectError } from './harness.js';

let srv, owner, cashier, admin;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  cashier = await srv.apiKeyClient('cashier');
  admin = await srv.apiKeyClient('admin');
});
after(async () => { await srv?.stop(); });

const txPath = (id) => `/api/v1/customers/${id}/transactions`;

test('credit, debit and adjustment change the balance and write signed ledger rows', async () => {
  const c = await createCustomer(owner, { name: 'Ledger' }); // 100 welcome
  const cr = await cashier.post(txPath(c.id), { type: 'credit', amount: 250, description: 'birthday gift' });
  assert.equal(cr.status, 201, cr.text);
  assert.deepEqual([cr.body.type, cr.body.amount, cr.body.balanceAfter, cr.body.customerId, cr.body.description, cr.body.channel], ['credit', 250, 350, c.id, 'birthday gift', 'api']);
  assert.equal(cr.body.reversalOf, null);
  assert.equal(cr.body.reversedBy, null);
  const db = await cashier.post(txPath(c.id), { type: 'debit', amount: 30 });
  assert.equal(db.status, 201, db.text);
  assert.deepEqual([db.body.type, db.body.amount, db.body.balanceAfter], ['debit', -30, 320]);
  const adjDown = await admin.post(txPath(c.id), { type: 'adjustment', amount: -20, description: 'correction' });
  assert.equal(adjDown.status, 201, adjDown.text);
  assert.deepEqual([adjDown.body.amount, adjDown.body.balanceAfter], [-20, 300]);
  const adjUp = await owner.post(txPath(c.id), { type: 'adjustment', amount: 5 });
  assert.equal(adjUp.status, 201, adjUp.text);
  assert.equal(adjUp.body.balanceAfter, 305);
  assert.equal(adjUp.body.channel, 'admin');
  assert.equal(adjUp.body.operatorId, `user:${srv.ownerId}`);
  const got = await owner.get(`/api/v1/customers/${c.id}`);
  assert.equal(got.body.balance, 305);
  assert.ok(got.body.lastActivity, 'lastActivity is set');
  const txs = await allTransactions(owner, c.id);
  assert.deepEqual(txs.map((t) => t.amount), [5, -20, -30, 250, 100], 'newest first');
  assert.equal(txs.reduce((s, t) => s + t.amount, 0), 305, 'balance = sum of the ledger');
  const v = await srv.verify();
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('debit beyond the balance → 422 insufficient_balance, balance unchanged', async () => {
  const c = await createCustomer(owner, { name: 'Poor' }); // 100
  const before = await snapshot(owner, c.id);
  expectError(await cashier.post(txPath(c.id), { type: 'debit', amount: 101 }), 422, 'insufficient_balance');
  expectError(await admin.post(txPath(c.id), { type: 'adjustment', amount: -101 }), 422, 'insufficient_balance');
  assert.deepEqual(await snapshot(owner, c.id), before);
  const exact = await cashier.post(txPath(c.id), { type: 'debit', amount: 100 });
  assert.equal(exact.status, 201);
  assert.equal(exact.body.balanceAfter, 0);
  expectError(await cashier.post(txPath(c.id), { type: 'debit', amount: 1 }), 422, 'insufficient_balance');
});

test('bad amounts → 400 field amount; nothing changes', async () => {
  const c = await createCustomer(owner, { name: 'Amounts' });
  const before = await snapshot(owner, c.id);
  const raw = (type, amount) => `{"type":"${type}","amount":${amount}}`;
  for (const type of ['credit', 'debit']) {
    for (const amount of ['0', '-5', '1.5', '10.0', '1e3', '"10"', 'null', 'true', '[10]', '{}', '9007199254740992', '9007199254740993', '9223372036854775807', '-9223372036854775808', '1000000001']) {
      expectError(await owner.post(txPath(c.id), raw(type, amount)), 400, 'validation_failed', 'amount');
    }
    // Literals beyond int64 may already be refused by the JSON parser (documented in openapi.yaml).
    for (const amount of ['9223372036854775808', '-9223372036854775809', '18446744073709551616', '100000000000000000000000000000', '1e400']) {
      const res = await owner.post(txPath(c.id), raw(type, amount));
      expectError(res, 400, ['validation_failed', 'malformed_json']);
      if (res.body.error.code === 'validation_failed') assert.equal(res.body.error.field, 'amount', res.text);
    }
  }
  for (const amount of ['0', '1.5', '1000000001', '-1000000001', '9223372036854775807']) {
    expectError(await owner.post(txPath(c.id), raw('adjustment', amount)), 400, 'validation_failed', 'amount');
  }
  expectError(await owner.post(txPath(c.id), { type: 'credit' }), 400, 'validation_failed', 'amount');
  expectError(await owner.post(txPath(c.id), { amount: 5 }), 400, 'validation_failed', 'type');
  for (const type of ['welcome', 'reversal', 'expiry', 'gift', '', 5, null]) {
    expectError(await owner.post(txPath(c.id), { type, amount: 5 }), 400, 'validation_failed', 'type');
  }
  expectError(await owner.post(txPath(c.id), { type: 'credit', amount: 5, balanceAfter: 1000 }), 400, 'validation_failed', 'balanceAfter');
  expectError(await owner.post(txPath(c.id), { type: 'credit', amount: 5, orderId: '' }), 400, 'validation_failed', 'orderId');
  expectError(await owner.post(txPath(c.id), { type: 'credit', amount: 5, orderId: 'o'.repeat(129) }), 400, 'validation_failed', 'orderId');
  expectError(await owner.post(txPath(c.id), { type: 'credit', amount: 5, description: 'd'.repeat(501) }), 400, 'validation_failed', 'description');
  assert.deepEqual(await snapshot(owner, c.id), before);
  const max = await owner.post(txPath(c.id), raw('credit', '1000000000'));
  assert.equal(max.status, 201, `1e9 is the largest amount: ${max.text}`);
});

test('a blocked customer cannot earn or spend (422 rule_violation)', async () => {
  const c = await createCustomer(owner, { name: 'Blocked One', status: 'blocked' });
  const before = await snapshot(owner, c.id);
  expectError(await cashier.post(txPath(c.id), { type: 'credit', amount: 5 }), 422, 'rule_violation');
  expectError(await cashier.post(txPath(c.id), { type: 'debit', amount: 5 }), 422, 'rule_violation');
  assert.deepEqual(await snapshot(owner, c.id), before);
});

test('Idempotency-Key: replay returns the same body with Idempotent-Replayed: true and applies once', async () => {
  const c = await createCustomer(owner, { name: 'Idem' });
  const key = `idem-${Date.now()}`;
  const body = { type: 'credit', amount: 42, description: 'once' };
  const first = await cashier.post(txPath(c.id), body, { headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.headers['idempotent-replayed'], undefined, 'the first response is not a replay');
  for (let i = 0; i < 3; i++) {
    const again = await cashier.post(txPath(c.id), body, { headers: { 'Idempotency-Key': key } });
    assert.equal(again.status, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.body, first.body);
  }
  const cust = await owner.get(`/api/v1/customers/${c.id}`);
  assert.equal(cust.body.balance, 142, 'applied once');
  assert.equal((await allTransactions(owner, c.id)).length, 2);
  // Same key, different body → 409, nothing applied.
  const conflict = await cashier.post(txPath(c.id), { ...body, amount: 43 }, { headers: { 'Idempotency-Key': key } });
  expectError(conflict, 409, 'idempotency_conflict');
  // Same key on another customer's path → 409 as well.
  const other = await createCustomer(owner, { name: 'Idem Other' });
  expectError(await cashier.post(txPath(other.id), body, { headers: { 'Idempotency-Key': key } }), 409, 'idempotency_conflict');
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 142);
  assert.equal((await owner.get(`/api/v1/customers/${other.id}`)).body.balance, 100);
  // A different key is a new request.
  const fresh = await cashier.post(txPath(c.id), body, { headers: { 'Idempotency-Key': `${key}-2` } });
  assert.equal(fresh.status, 201);
  assert.notEqual(fresh.body.id, first.body.id);
});

test('Idempotency-Key: error responses are replayed too, and bad keys are 400', async () => {
  const c = await createCustomer(owner, { name: 'Idem Err' });
  const key = `idem-err-${Date.now()}`;
  const first = await cashier.post(txPath(c.id), { type: 'debit', amount: 500 }, { headers: { 'Idempotency-Key': key } });
  expectError(first, 422, 'insufficient_balance');
  await cashier.post(txPath(c.id), { type: 'credit', amount: 1000 });
  const again = await cashier.post(txPath(c.id), { type: 'debit', amount: 500 }, { headers: { 'Idempotency-Key': key } });
  expectError(again, 422, 'insufficient_balance');
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 1100);
  for (const bad of ['', 'k'.repeat(129), 'has space', 'tab\tkey', 'ключ']) {
    const res = await cashier.post(txPath(c.id), { type: 'credit', amount: 1 }, { headers: { 'Idempotency-Key': Buffer.from(bad, 'utf8').toString('latin1') } });
    expectError(res, 400, 'validation_failed', 'Idempotency-Key');
  }
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 1100);
});

test('Idempotency-Key is per business credential scope: a session and a key share the business', async () => {
  const c = await createCustomer(owner, { name: 'Idem Scope' });
  const key = `scope-${Date.now()}`;
  const body = { type: 'credit', amount: 7 };
  const a = await owner.post(txPath(c.id), body, { headers: { 'Idempotency-Key': key } });
  assert.equal(a.status, 201);
  const b = await admin.post(txPath(c.id), body, { headers: { 'Idempotency-Key': key } });
  assert.equal(b.status, 201);
  assert.equal(b.headers['idempotent-replayed'], 'true');
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 107);
});

test('orderId is unique per business: reuse → 409 and nothing applied', async () => {
  const c = await createCustomer(owner, { name: 'Orders' });
  const first = await cashier.post(txPath(c.id), { type: 'credit', amount: 10, orderId: 'ORD-1' });
  assert.equal(first.status, 201, first.text);
  assert.equal(first.body.orderId, 'ORD-1');
  const before = await snapshot(owner, c.id);
  const diff = await cashier.post(txPath(c.id), { type: 'credit', amount: 11, orderId: 'ORD-1' });
  expectError(diff, 409, ['conflict', 'idempotency_conflict']);
  const other = await createCustomer(owner, { name: 'Orders 2' });
  expectError(await cashier.post(txPath(other.id), { type: 'credit', amount: 10, orderId: 'ORD-1' }), 409, ['conflict', 'idempotency_conflict']);
  assert.deepEqual(await snapshot(owner, c.id), before);
  assert.equal((await owner.get(`/api/v1/customers/${other.id}`)).body.balance, 100);
});

test('reverse: 201 reversal row, original marked; twice → 409; balance restored', async () => {
  const c = await createCustomer(owner, { name: 'Reverse' });
  const cr = await cashier.post(txPath(c.id), { type: 'credit', amount: 60 });
  const rev = await admin.post(`/api/v1/transactions/${cr.body.id}/reverse`, { description: 'wrong customer' });
  assert.equal(rev.status, 201, rev.text);
  assert.equal(rev.body.type, 'reversal');
  assert.equal(rev.body.amount, -60);
  assert.equal(rev.body.reversalOf, cr.body.id);
  assert.equal(rev.body.balanceAfter, 100);
  assert.equal(rev.body.customerId, c.id);
  assert.equal(rev.body.description, 'wrong customer');
  const txs = await allTransactions(owner, c.id);
  assert.equal(txs.find((t) => t.id === cr.body.id).reversedBy, rev.body.id);
  const before = await snapshot(owner, c.id);
  expectError(await admin.post(`/api/v1/transactions/${cr.body.id}/reverse`, {}), 409, 'conflict');
  expectError(await owner.post(`/api/v1/transactions/${cr.body.id}/reverse`), 409, 'conflict');
  expectError(await admin.post(`/api/v1/transactions/${rev.body.id}/reverse`, {}), 422, 'rule_violation');
  assert.deepEqual(await snapshot(owner, c.id), before);
  // Reversing a debit gives the points back; the body is optional.
  const db = await cashier.post(txPath(c.id), { type: 'debit', amount: 40 });
  const rev2 = await owner.post(`/api/v1/transactions/${db.body.id}/reverse`);
  assert.equal(rev2.status, 201, rev2.text);
  assert.equal(rev2.body.amount, 40);
  assert.equal(rev2.body.balanceAfter, 100);
  expectError(await admin.post('/api/v1/transactions/999999999/reverse', {}), 404, 'not_found');
  expectError(await admin.post(`/api/v1/transactions/${db.body.id}/reverse`, { reason: 'x' }), 400, 'validation_failed', 'reason');
  const v = await srv.verify();
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('reverse a credit that was already spent → 422 insufficient_balance, nothing changes', async () => {
  const c = await createCustomer(owner, { name: 'Spent' });
  const cr = await cashier.post(txPath(c.id), { type: 'credit', amount: 50 });
  await cashier.post(txPath(c.id), { type: 'debit', amount: 120 });
  const before = await snapshot(owner, c.id);
  expectError(await admin.post(`/api/v1/transactions/${cr.body.id}/reverse`, {}), 422, 'insufficient_balance');
  assert.deepEqual(await snapshot(owner, c.id), before);
});

test('transaction list: cursor pagination walks every row once; limit bounds', async () => {
  const c = await createCustomer(owner, { name: 'Many Tx' });
  for (let i = 1; i <= 12; i++) await cashier.post(txPath(c.id), { type: 'credit', amount: i });
  const seen = [];
  let cursor = null;
  do {
    const r = await owner.get(`${txPath(c.id)}?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200);
    seen.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  assert.deepEqual(seen.map((t) => t.amount), [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 100]);
  for (const limit of ['0', '101', 'x']) {
    expectError(await owner.get(`${txPath(c.id)}?limit=${limit}`), 400, 'validation_failed', 'limit');
  }
  expectError(await owner.get(`${txPath(c.id)}?cursor=bogus`), 400, 'validation_failed', 'cursor');
});
