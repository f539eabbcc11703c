// POS purchases: earn on the paid part, redeem within the balance and the minimum, idempotent by orderId.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, snapshot, allTransactions, luhnDigit, expectError } from './harness.js';

let srv, owner, pos;
let seq = 0;
const oid = () => `pos-${Date.now()}-${++seq}`;

before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  pos = await srv.apiKeyClient('cashier');
});
after(async () => { await srv?.stop(); });

const earnOf = (paidKopecks, ppr) => Math.floor((paidKopecks * ppr) / 1000000);

test('purchase by card: 5 % of 1 500 ₽ earns 75 points; response and ledger agree', async () => {
  const c = await createCustomer(owner, { name: 'Buyer' }); // balance 100
  const orderId = oid();
  const res = await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 150000, orderId, description: 'coffee and cake' });
  assert.equal(res.status, 201, res.text);
  const r = res.body;
  assert.deepEqual(
    [r.orderId, r.customerId, r.cardNumber, r.purchaseAmount, r.redeemed, r.earned, r.amountDue, r.balance],
    [orderId, c.id, c.cardNumber, 150000, 0, 75, 150000, 175],
  );
  assert.equal(r.transactions.length, 1);
  const [t] = r.transactions;
  assert.deepEqual([t.type, t.amount, t.balanceAfter, t.channel, t.orderId, t.customerId], ['credit', 75, 175, 'pos', orderId, c.id]);
  const cust = (await owner.get(`/api/v1/customers/${c.id}`)).body;
  assert.equal(cust.balance, 175);
  assert.equal(cust.totalSpent, 150000);
  const txs = await allTransactions(owner, c.id);
  assert.equal(txs[0].id, t.id);
});

test('purchase by phone in any format, with redemption: earn only on the paid part', async () => {
  const c = await createCustomer(owner, { name: 'Phone Buyer', phone: '+79265550011' });
  await owner.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 400 }); // 500
  const res = await pos.post('/api/v1/pos/purchase', { phone: '8 (926) 555-00-11', purchaseAmount: 123456, redeem: 200, orderId: oid() });
  assert.equal(res.status, 201, res.text);
  const paid = 123456 - 200 * 100; // 103456 kopecks
  const earned = earnOf(paid, 500); // floor(51.728) = 51
  assert.equal(earned, 51);
  const r = res.body;
  assert.deepEqual([r.customerId, r.redeemed, r.amountDue, r.earned, r.balance], [c.id, 200, paid, earned, 500 - 200 + earned]);
  assert.deepEqual(r.transactions.map((t) => [t.type, t.amount]), [['debit', -200], ['credit', earned]]);
  assert.equal(r.transactions[1].balanceAfter, r.balance);
  const cust = (await owner.get(`/api/v1/customers/${c.id}`)).body;
  assert.equal(cust.balance, r.balance);
  assert.equal(cust.totalSpent, 123456);
  const v = await srv.verify();
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('earn rounds down and follows pointsPerRuble; tiny purchases earn nothing and write no credit row', async () => {
  const c = await createCustomer(owner, { name: 'Rounding' });
  const cases = [[1999, 0], [2000, 1], [2001, 1], [99, 0], [3999999, 1999]];
  let bal = 100;
  for (const [amount, want] of cases) {
    const res = await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: amount, orderId: oid() });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.earned, want, `purchase ${amount} kopecks`);
    assert.equal(res.body.earned, earnOf(amount, 500));
    bal += want;
    assert.equal(res.body.balance, bal);
    assert.equal(res.body.transactions.length, want > 0 ? 1 : 0);
  }
  const s = await owner.put('/api/v1/settings', { loyaltySettings: { pointsPerRuble: 1234 } });
  assert.equal(s.status, 200, s.text);
  try {
    const res = await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 987654, orderId: oid() });
    assert.equal(res.body.earned, earnOf(987654, 1234));
    assert.equal(res.body.earned, 1218);
  } finally {
    await owner.put('/api/v1/settings', { loyaltySettings: { pointsPerRuble: 500 } });
  }
});

test('redeem beyond the balance → 422 insufficient_balance; nothing changes', async () => {
  const c = await createCustomer(owner, { name: 'Overspend' }); // 100
  const before = await snapshot(owner, c.id);
  expectError(await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 50000, redeem: 101, orderId: oid() }), 422, 'insufficient_balance');
  assert.deepEqual(await snapshot(owner, c.id), before);
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.totalSpent, 0);
});

test('redeem below minimumRedemption → 422 rule_violation; redeeming more than the purchase → 422; nothing changes', async () => {
  const c = await createCustomer(owner, { name: 'Minimum' });
  await owner.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 900 }); // 1000
  const s = await owner.put('/api/v1/settings', { loyaltySettings: { minimumRedemption: 50 } });
  assert.equal(s.status, 200, s.text);
  assert.equal(s.body.loyaltySettings.minimumRedemption, 50);
  try {
    const before = await snapshot(owner, c.id);
    expectError(await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 100000, redeem: 49, orderId: oid() }), 422, 'rule_violation');
    expectError(await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 1000, redeem: 100, orderId: oid() }), 422, 'rule_violation');
    assert.deepEqual(await snapshot(owner, c.id), before);
    const ok = await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 100000, redeem: 50, orderId: oid() });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.redeemed, 50);
    // No redemption at all is always fine.
    const none = await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 100, orderId: oid() });
    assert.equal(none.status, 201, none.text);
    // Paying the whole purchase with points: nothing due, nothing earned.
    const all = await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 6000, redeem: 60, orderId: oid() });
    assert.equal(all.status, 201, all.text);
    assert.deepEqual([all.body.amountDue, all.body.earned], [0, 0]);
  } finally {
    await owner.put('/api/v1/settings', { loyaltySettings: { minimumRedemption: 0 } });
  }
});

test('a blocked customer → 422 rule_violation', async () => {
  const c = await createCustomer(owner, { name: 'Blocked Buyer', status: 'blocked' });
  const before = await snapshot(owner, c.id);
  expectError(await pos.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 10000, orderId: oid() }), 422, 'rule_violation');
  assert.deepEqual(await snapshot(owner, c.id), before);
});

test('replay by orderId: same response, applied once; different body → 409 idempotency_conflict', async () => {
  const c = await createCustomer(owner, { name: 'Replay' });
  const body = { card: c.cardNumber, purchaseAmount: 40000, redeem: 10, orderId: oid() };
  const first = await pos.post('/api/v1/pos/purchase', body);
  assert.equal(first.status, 201, first.text);
  const again = await pos.post('/api/v1/pos/purchase', body);
  assert.equal(again.status, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.deepEqual(again.body, first.body);
  // Another credential of the same business (a staff session) replays too.
  const viaSession = await owner.post('/api/v1/pos/purchase', body);
  assert.equal(viaSession.status, 201);
  assert.deepEqual(viaSession.body, first.body);
  const cust = (await owner.get(`/api/v1/customers/${c.id}`)).body;
  assert.equal(cust.balance, first.body.balance);
  assert.equal(cust.totalSpent, 40000);
  assert.equal((await allTransactions(owner, c.id)).length, 3);
  const before = await snapshot(owner, c.id);
  expectError(await pos.post('/api/v1/pos/purchase', { ...body, purchaseAmount: 40001 }), 409, 'idempotency_conflict');
  expectError(await pos.post('/api/v1/pos/purchase', { ...body, redeem: 0 }), 409, 'idempotency_conflict');
  assert.deepEqual(await snapshot(owner, c.id), before);
});

test('bad check digit → 400 card; unknown card or phone → 404; nothing changes', async () => {
  const c = await createCustomer(owner, { name: 'Known' });
  const bad = c.cardNumber.slice(0, 8) + String((Number(c.cardNumber[8]) + 1) % 10);
  const unknown = c.cardNumber === '10000000' + luhnDigit('10000000') ? '20000000' + luhnDigit('20000000') : '10000000' + luhnDigit('10000000');
  const before = await snapshot(owner, c.id);
  expectError(await pos.post('/api/v1/pos/purchase', { card: bad, purchaseAmount: 10000, orderId: oid() }), 400, 'validation_failed', 'card');
  expectError(await pos.post('/api/v1/pos/purchase', { card: unknown, purchaseAmount: 10000, orderId: oid() }), 404, 'not_found');
  expectError(await pos.post('/api/v1/pos/purchase', { phone: '+79000000001', purchaseAmount: 10000, orderId: oid() }), 404, 'not_found');
  assert.deepEqual(await snapshot(owner, c.id), before);
});

test('validation: card xor phone, amounts, orderId → 400 with field', async () => {
  const c = await createCustomer(owner, { name: 'Validate POS' });
  const before = await snapshot(owner, c.id);
  const base = { card: c.cardNumber, purchaseAmount: 10000, orderId: 'v-1' };
  const cases = [
    [{ purchaseAmount: 10000, orderId: 'v-1' }, 'card'],
    [{ ...base, orderId: undefined }, 'orderId'],
    [{ ...base, orderId: '' }, 'orderId'],
    [{ ...base, purchaseAmount: undefined }, 'purchaseAmount'],
    [{ ...base, purchaseAmount: 0 }, 'purchaseAmount'],
    [{ ...base, purchaseAmount: -100 }, 'purchaseAmount'],
    [{ ...base, purchaseAmount: 100.5 }, 'purchaseAmount'],
    [{ ...base, purchaseAmount: '10000' }, 'purchaseAmount'],
    [{ ...base, purchaseAmount: 100000000001 }, 'purchaseAmount'],
    [{ ...base, redeem: -1 }, 'redeem'],
    [{ ...base, redeem: 1.5 }, 'redeem'],
    [{ ...base, redeem: '5' }, 'redeem'],
    [{ ...base, card: 12345678 }, 'card'],
    [{ ...base, card: 'abcdefghi' }, 'card'],
    [{ ...base, phone: 'not a phone', card: undefined }, 'phone'],
    [{ ...base, earned: 1000 }, 'earned'],
  ];
  for (const [body, field] of cases) {
    expectError(await pos.post('/api/v1/pos/purchase', JSON.parse(JSON.stringify(body))), 400, 'validation_failed', field);
  }
  const both = await pos.post('/api/v1/pos/purchase', { ...base, phone: c.phone });
  expectError(both, 400, 'validation_failed');
  assert.ok(['card', 'phone'].includes(both.body.error.field), both.text);
  assert.deepEqual(await snapshot(owner, c.id), before);
  // The rejected orderId was not consumed.
  const ok = await pos.post('/api/v1/pos/purchase', base);
  assert.equal(ok.status, 201, ok.text);
});
