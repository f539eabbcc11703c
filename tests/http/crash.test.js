// Crash safety: every credit acknowledged with a 2xx survives SIGKILL, and the ledger verifies.
import { test, before, beforeEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, createCustomer, allTransactions } from './harness.js';

let srv;
before(async () => { srv = await startServer(); });
// A test that failed half-way may leave the server killed; the next one starts from a live one.
beforeEach(async () => { if (srv?.exited) await srv.restart(); });
after(async () => { await srv?.stop(); });

/**
 * Streams credits with `inflight` requests at a time until the server dies; returns the
 * acknowledged transactions (by description) and the number of requests that got no answer.
 */
async function streamUntilKilled(client, customerId, inflight, killAfterMs, tag) {
  const acked = new Map(); // description → transaction
  let seq = 0;
  let dead = false;
  let unanswered = 0;
  const killer = (async () => {
    await sleep(killAfterMs);
    await srv.kill('SIGKILL');
    dead = true;
  })();
  async function worker() {
    while (!dead) {
      const description = `${tag}-${++seq}`;
      try {
        const res = await client.post(`/api/v1/customers/${customerId}/transactions`, { type: 'credit', amount: 1, description }, { timeout: 5000 });
        if (res.status >= 200 && res.status < 300) acked.set(description, res.body);
        else assert.fail(`credit answered ${res.status} ${res.text}`);
      } catch (e) {
        if (e.code === 'ERR_ASSERTION') throw e;
        unanswered++;
        if (dead) break;
        await sleep(5);
      }
    }
  }
  // Always let the kill happen (even when a worker failed), so that the next test finds a known state.
  const results = await Promise.allSettled(Array.from({ length: inflight }, worker));
  dead = true;
  await killer;
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return { acked, unanswered };
}

for (const [label, inflight] of [['sequential', 1], ['8 in flight', 8]]) {
  test(`SIGKILL mid-stream (${label}): every acknowledged credit is in the ledger, verify passes`, async () => {
    const owner = await srv.login();
    const c = await createCustomer(owner, { name: `Crash ${label}` });
    const pos = await srv.apiKeyClient('cashier');
    const { acked } = await streamUntilKilled(pos, c.id, inflight, 1200, `crash-${inflight}`);
    assert.ok(acked.size > 5, `some credits were acknowledged before the kill (${acked.size})`);
    assert.equal(srv.exited.signal, 'SIGKILL');

    const v1 = await srv.verify();
    assert.equal(v1.code, 0, `loy verify right after the crash: ${v1.stdout} ${v1.stderr}`);
    await srv.restart();
    const owner2 = await srv.login();
    const txs = await allTransactions(owner2, c.id);
    const byDesc = new Map(txs.map((t) => [t.description, t]));
    const missing = [...acked.keys()].filter((d) => !byDesc.has(d));
    assert.deepEqual(missing, [], `acknowledged credits lost: ${missing.length} of ${acked.size}`);
    for (const [d, t] of acked) assert.equal(byDesc.get(d).id, t.id, `${d} kept its id`);
    const cust = (await owner2.get(`/api/v1/customers/${c.id}`)).body;
    assert.equal(cust.balance, txs.reduce((s, t) => s + t.amount, 0));
    assert.ok(cust.balance >= 100 + acked.size, 'unacknowledged credits may have landed, acknowledged ones all did');
    const v2 = await srv.verify();
    assert.equal(v2.code, 0, `loy verify after restart: ${v2.stdout} ${v2.stderr}`);
    // The restarted server takes writes again.
    const more = await pos.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 1 });
    assert.equal(more.status, 201, more.text);
  });
}

test('an Idempotency-Key acknowledged before a crash is still replayed after it', async () => {
  const owner = await srv.login();
  const c = await createCustomer(owner, { name: 'Crash Idem' });
  const pos = await srv.apiKeyClient('cashier');
  const first = await pos.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 9 }, { headers: { 'Idempotency-Key': 'crash-idem' } });
  assert.equal(first.status, 201);
  await srv.kill('SIGKILL');
  await srv.restart();
  const again = await pos.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 9 }, { headers: { 'Idempotency-Key': 'crash-idem' } });
  assert.equal(again.status, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.deepEqual(again.body, first.body);
  assert.equal((await (await srv.login()).get(`/api/v1/customers/${c.id}`)).body.balance, 109);
});
