// Upkeep that `loy serve` runs on its own (LOY_HOUSEKEEPING_INTERVAL): points of inactive customers
// expire after the business's expirationDays, Idempotency-Key records are forgotten after 24 hours
// (orderIds never are). Time is moved by back-dating rows in the database itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, createCustomer, allTransactions, newPhone } from './harness.js';

const exec = promisify(execFile);
const DAY = 86400000;
let srv, owner, cashier;

/** Runs one SQL statement on the server's database, whichever engine it is. */
async function sql(statement) {
  if (srv.dbUrl.startsWith('sqlite:')) {
    await exec('sqlite3', ['-cmd', '.timeout 10000', srv.dbUrl.slice('sqlite:'.length), statement]);
  } else {
    await exec('psql', [srv.dbUrl, '-v', 'ON_ERROR_STOP=1', '-q', '-c', statement]);
  }
}

async function until(what, fn, ms = 8000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

before(async () => {
  srv = await startServer({ env: { LOY_HOUSEKEEPING_INTERVAL: '1' } });
  owner = await srv.owner();
  cashier = await srv.apiKeyClient('cashier');
});
after(async () => { await srv?.stop(); });

test('points expire after expirationDays without activity: one expiry row, balance 0, verify passes', async () => {
  const set = await owner.put('/api/v1/settings', { loyaltySettings: { expirationDays: 30 } });
  assert.equal(set.status, 200, set.text);
  const idle = await createCustomer(cashier, { name: 'Idle', phone: newPhone() });
  const active = await createCustomer(cashier, { name: 'Active', phone: newPhone() });
  assert.equal((await cashier.post(`/api/v1/customers/${idle.id}/transactions`, { type: 'credit', amount: 50 })).status, 201);
  // Idle's last visit was 31 days ago; Active's 29 days ago.
  await sql(`UPDATE customers SET last_activity = ${Date.now() - 31 * DAY} WHERE id = ${idle.id}`);
  await sql(`UPDATE customers SET last_activity = ${Date.now() - 29 * DAY} WHERE id = ${active.id}`);
  const gone = await until('the idle balance to expire', async () => {
    const c = (await owner.get(`/api/v1/customers/${idle.id}`)).body;
    return c.balance === 0 ? c : null;
  });
  assert.equal(gone.balance, 0);
  const items = await allTransactions(owner, idle.id);
  const expiry = items.filter((t) => t.type === 'expiry');
  assert.equal(expiry.length, 1, 'exactly one expiry entry');
  assert.equal(expiry[0].amount, -150);
  assert.equal(expiry[0].balanceAfter, 0);
  assert.equal(expiry[0].channel, 'system');
  assert.equal(expiry[0].operatorId, null);
  assert.match(expiry[0].description, /30 days/);
  await sleep(1500); // another round must not expire anything twice, nor touch the active customer
  assert.equal((await allTransactions(owner, idle.id)).filter((t) => t.type === 'expiry').length, 1);
  assert.equal((await owner.get(`/api/v1/customers/${active.id}`)).body.balance, 100);
  assert.equal((await srv.verify()).code, 0);
});

test('expirationDays 0 means points never expire', async () => {
  assert.equal((await owner.put('/api/v1/settings', { loyaltySettings: { expirationDays: 0 } })).status, 200);
  const c = await createCustomer(cashier, { name: 'Forever', phone: newPhone() });
  await sql(`UPDATE customers SET last_activity = ${Date.now() - 4000 * DAY} WHERE id = ${c.id}`);
  await sleep(2500);
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 100);
});

test('an Idempotency-Key is forgotten after 24 hours; an orderId never is', async () => {
  const c = await createCustomer(cashier, { name: 'Keys', phone: newPhone() });
  const path = `/api/v1/customers/${c.id}/transactions`;
  const key = `hk-${Date.now()}`;
  const first = await cashier.post(path, { type: 'credit', amount: 5 }, { headers: { 'Idempotency-Key': key } });
  assert.equal(first.status, 201);
  const order = `order-${Date.now()}`;
  const sale = await cashier.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 100000, orderId: order });
  assert.equal(sale.status, 201, sale.text);
  // Both records are now 25 hours old.
  await sql(`UPDATE idempotency SET created_at = ${Date.now() - 25 * 3600000}`);
  await sleep(2500);
  const again = await cashier.post(path, { type: 'credit', amount: 5 }, { headers: { 'Idempotency-Key': key } });
  assert.equal(again.status, 201);
  assert.equal(again.headers['idempotent-replayed'], undefined, 'a key older than 24 h starts afresh');
  assert.notEqual(again.body.id, first.body.id);
  const resale = await cashier.post('/api/v1/pos/purchase', { card: c.cardNumber, purchaseAmount: 100000, orderId: order });
  assert.equal(resale.headers['idempotent-replayed'], 'true', 'an orderId is remembered for ever');
  assert.deepEqual(resale.body, sale.body);
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 100 + 5 + 5 + 50);
});
