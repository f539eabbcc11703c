// Concurrency: debits never take a balance below zero; one Idempotency-Key applies once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, allTransactions, expectError } from './harness.js';

let srv, owner;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
});
after(async () => { await srv?.stop(); });

test('20 clients debiting one customer at once: exactly 10 succeed, the rest 422, balance 0, verify passes', async () => {
  const c = await createCustomer(owner, { name: 'Contended' }); // welcome 100
  assert.equal(c.balance, 100);
  // 20 independent clients (separate connections and credentials).
  const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? srv.apiKeyClient('cashier') : srv.staff('cashier'))));
  const results = await Promise.all(clients.map((cl) => cl.post(`/api/v1/customers/${c.id}/transactions`, { type: 'debit', amount: 10 })));
  const ok = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status !== 201);
  assert.equal(ok.length, 10, `statuses: ${results.map((r) => r.status).join(',')}`);
  for (const r of refused) expectError(r, 422, 'insufficient_balance');
  const after = (await owner.get(`/api/v1/customers/${c.id}`)).body;
  assert.equal(after.balance, 0);
  const balances = ok.map((r) => r.body.balanceAfter).sort((a, b) => a - b);
  assert.deepEqual(balances, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90], 'each success saw a distinct balance');
  const txs = await allTransactions(owner, c.id);
  assert.equal(txs.length, 11);
  assert.equal(txs.reduce((s, t) => s + t.amount, 0), 0);
  const v = await srv.verify();
  assert.equal(v.code, 0, `loy verify: ${v.stdout} ${v.stderr}`);
});

test('the same Idempotency-Key sent 50 times at once applies once and all 50 get the same body', async () => {
  const c = await createCustomer(owner, { name: 'Idem Storm' });
  const pos = await srv.apiKeyClient('cashier');
  // 50 separate connections so that the requests really overlap.
  const clients = Array.from({ length: 50 }, () => {
    const cl = srv.anon();
    cl.bearer = pos.bearer;
    return cl;
  });
  const body = { type: 'credit', amount: 77, description: 'storm' };
  const results = await Promise.all(clients.map((cl) => cl.post(`/api/v1/customers/${c.id}/transactions`, body, { headers: { 'Idempotency-Key': 'storm-key-1' } })));
  const statuses = results.map((r) => r.status);
  assert.ok(statuses.every((s) => s === 201), `all 201: ${statuses.join(',')}`);
  const first = results[0].body;
  for (const r of results) assert.deepEqual(r.body, first);
  assert.equal(results.filter((r) => r.headers['idempotent-replayed'] === undefined).length, 1, 'exactly one response is the original');
  const after = (await owner.get(`/api/v1/customers/${c.id}`)).body;
  assert.equal(after.balance, 177, 'applied once');
  assert.equal((await allTransactions(owner, c.id)).length, 2);
});

test('50 concurrent POS purchases with one orderId apply once', async () => {
  const c = await createCustomer(owner, { name: 'Order Storm' });
  const pos = await srv.apiKeyClient('cashier');
  const clients = Array.from({ length: 50 }, () => {
    const cl = srv.anon();
    cl.bearer = pos.bearer;
    return cl;
  });
  const body = { card: c.cardNumber, purchaseAmount: 100000, redeem: 50, orderId: 'storm-order-1' };
  const results = await Promise.all(clients.map((cl) => cl.post('/api/v1/pos/purchase', body)));
  assert.ok(results.every((r) => r.status === 201), results.map((r) => r.status).join(','));
  for (const r of results) assert.deepEqual(r.body, results[0].body);
  const after = (await owner.get(`/api/v1/customers/${c.id}`)).body;
  assert.equal(after.balance, 100 - 50 + Math.floor((100000 - 50 * 100) * 500 / 1000000)); // 97
  assert.equal(after.totalSpent, 100000);
});

test('concurrent credits and debits on many customers keep every balance equal to its ledger', async () => {
  const customers = await Promise.all(Array.from({ length: 5 }, (_, i) => createCustomer(owner, { name: `Mixed ${i}` })));
  const workers = await Promise.all(Array.from({ length: 8 }, () => srv.apiKeyClient('cashier')));
  const ops = [];
  for (let i = 0; i < 200; i++) {
    const cust = customers[i % customers.length];
    const w = workers[i % workers.length];
    const type = i % 3 === 0 ? 'debit' : 'credit';
    ops.push(w.post(`/api/v1/customers/${cust.id}/transactions`, { type, amount: (i % 7) + 1 }));
  }
  const results = await Promise.all(ops);
  for (const r of results) assert.ok(r.status === 201 || r.status === 422, `${r.status} ${r.text}`);
  for (const cust of customers) {
    const txs = await allTransactions(owner, cust.id);
    const bal = (await owner.get(`/api/v1/customers/${cust.id}`)).body.balance;
    assert.equal(txs.reduce((s, t) => s + t.amount, 0), bal);
    assert.ok(bal >= 0);
    // The ledger, oldest first, never dips below zero.
    let running = 0;
    for (const t of [...txs].reverse()) {
      running += t.amount;
      assert.equal(t.balanceAfter, running, 'balanceAfter is the running sum');
      assert.ok(running >= 0);
    }
  }
  const v = await srv.verify();
  assert.equal(v.code, 0, v.stdout + v.stderr);
});
