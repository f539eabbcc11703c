// Card lookup after a scan.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, luhnDigit, expectError } from './harness.js';

let srv, owner, cashier, cashierSession, viewer, cust;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  cashier = await srv.apiKeyClient('cashier');
  cashierSession = await srv.staff('cashier');
  viewer = await srv.apiKeyClient('viewer');
  cust = await createCustomer(owner, { name: 'Card Holder', phone: '+79031234567' });
});
after(async () => { await srv?.stop(); });

test('lookup by card number: what the cashier sees, with a masked phone', async () => {
  for (const c of [cashier, cashierSession, owner]) {
    const res = await c.get(`/api/v1/cards/${cust.cardNumber}`);
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.deepEqual([b.cardNumber, b.customerId, b.name, b.balance, b.status], [cust.cardNumber, cust.id, 'Card Holder', 100, 'active']);
    assert.ok(!b.phoneMasked.includes('9031234567') && !b.phoneMasked.includes('1234567'), `phone masked: ${b.phoneMasked}`);
    assert.ok(b.phoneMasked.includes('*'), `masked with *: ${b.phoneMasked}`);
    assert.ok(b.phoneMasked.replace(/[^0-9]/g, '').length <= 6, `at most 6 digits shown: ${b.phoneMasked}`);
    assert.ok(b.phoneMasked.endsWith('67'), `the last digits are shown: ${b.phoneMasked}`);
    assert.ok(!res.text.includes('+79031234567'), 'the full phone is nowhere in the body');
  }
});

test('the balance follows the ledger', async () => {
  await cashier.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 23 });
  const res = await cashier.get(`/api/v1/cards/${cust.cardNumber}`);
  assert.equal(res.body.balance, 123);
  assert.ok(res.body.lastActivity);
});

test('bad check digit, unknown card, malformed numbers → 404', async () => {
  const body8 = cust.cardNumber.slice(0, 8);
  const wrong = body8 + String((Number(luhnDigit(body8)) + 1) % 10);
  expectError(await cashier.get(`/api/v1/cards/${wrong}`), 404, 'not_found');
  // A Luhn-valid number nobody holds.
  let other = '1234567' + '0';
  other += luhnDigit(other);
  if (other === cust.cardNumber) other = '99999999' + luhnDigit('99999999');
  expectError(await cashier.get(`/api/v1/cards/${other}`), 404, 'not_found');
  for (const bad of ['12345', '1234567890', 'abcdefghi', `${cust.cardNumber}0`, `0${cust.cardNumber}`, '%20' + cust.cardNumber, cust.cardNumber.slice(0, 8) + 'x']) {
    expectError(await cashier.get(`/api/v1/cards/${bad}`), 404, 'not_found');
  }
});

test('viewer → 403, no credentials → 401', async () => {
  expectError(await viewer.get(`/api/v1/cards/${cust.cardNumber}`), 403, 'forbidden');
  expectError(await srv.anon().get(`/api/v1/cards/${cust.cardNumber}`), 401, 'unauthorized');
});

test('a blocked customer is still found, with status blocked', async () => {
  const b = await createCustomer(owner, { name: 'Blocked Card', status: 'blocked' });
  const res = await cashier.get(`/api/v1/cards/${b.cardNumber}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'blocked');
});
