// Google Wallet as the admin sees it (issue 4): the customer's wallet report (`google`: the object,
// its class once inserted, saved by callbacks, Google's refusal, the day's notification budget and
// the messages with their progress), the install's status (issuer, service account, why it could
// not start), and the messages route's refusals. Every response is checked against
// docs/openapi.yaml (validation on, the default), so the documented shapes are what is served.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, createCustomer } from './harness.js';
import { expectError } from './lib/client.js';
import { startFakeGoogle, makeServiceAccount } from '../fakes/google.js';

const ISSUER = '3388000000087654321';

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

describe('Google Wallet on', () => {
  let srv, g, sa, owner, dir;
  const report = async (id) => {
    const r = await owner.get(`/api/v1/customers/${id}/wallet`);
    assert.equal(r.status, 200, r.text);
    return r.body.google;
  };

  before(async () => {
    sa = makeServiceAccount();
    g = await startFakeGoogle({ serviceAccountPublicKeyPem: sa.publicKeyPem, serviceAccountEmail: sa.email, issuerId: ISSUER });
    dir = mkdtempSync(path.join(tmpdir(), 'loy-greport-'));
    const keyFile = path.join(dir, 'sa.json');
    sa.writeKeyFile(keyFile, g.tokenUri);
    srv = await startServer({
      env: { LOY_GOOGLE_ISSUER_ID: ISSUER, LOY_GOOGLE_KEY_FILE: keyFile, LOY_GOOGLE_API_URL: g.url, LOY_GOOGLE_KEYS_URL: g.keysUrl },
    });
    owner = await srv.owner();
  });
  after(async () => {
    await srv?.stop();
    await g?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the status names the issuer and the service account', async () => {
    const s = await owner.get('/api/v1/wallet/status');
    assert.equal(s.status, 200, s.text);
    assert.deepEqual(s.body.google, { enabled: true, issuerId: ISSUER, serviceAccount: sa.email, problem: null });
    const viewer = await srv.apiKeyClient('viewer');
    expectError(await viewer.get('/api/v1/wallet/status'), 403, 'forbidden');
  });

  test('the report shows the object, then its class and sync time once Google took it; saved by a callback', async () => {
    const c = await createCustomer(owner);
    const first = await report(c.id);
    assert.ok(first, 'a customer made with Google Wallet on has a card');
    assert.ok(first.objectId.startsWith(`${ISSUER}.c${c.id}-`), first.objectId);
    assert.equal(first.saved, false);
    assert.equal(first.savedAt, null);
    assert.equal(first.deletedAt, null);
    assert.deepEqual(first.messages, []);

    const synced = await until(async () => { const x = await report(c.id); return x.classId && x.syncedAt ? x : null; }, 3000, 'object synced');
    assert.ok(synced.classId.startsWith(`${ISSUER}.`), synced.classId);
    assert.equal(synced.problem, null);
    assert.equal(synced.objectId, first.objectId);
    const atGoogle = g.state.objects.get(synced.objectId);
    assert.ok(atGoogle, 'the reported objectId is the one Google has');
    assert.equal(atGoogle.classId, synced.classId);

    const got = await g.deliverCallback({ url: `${srv.url}/google/callback`, classId: synced.classId, objectId: synced.objectId, eventType: 'save' });
    assert.equal(got[0].status, 200, got[0].response);
    const saved = await report(c.id);
    assert.equal(saved.saved, true);
    assert.ok(saved.savedAt);
    assert.equal(saved.deletedAt, null);
  });

  test('messages: 202 queued, then sent; 3 notify, the 4th is silent, and the report counts the budget', async () => {
    const c = await createCustomer(owner);
    await until(async () => (await report(c.id)).syncedAt, 3000, 'object synced');
    const sent = [];
    for (let i = 1; i <= 4; i++) {
      const r = await owner.post(`/api/v1/customers/${c.id}/wallet/google/messages`, { header: `Акция ${i}`, body: `Строка ${i}\nвторая строка` });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.body.state, 'queued');
      assert.equal(r.body.header, `Акция ${i}`);
      assert.equal(r.body.body, `Строка ${i}\nвторая строка`);
      sent.push(r.body);
    }
    const done = await until(async () => {
      const x = await report(c.id);
      return x.messages.length === 4 && x.messages.every((m) => m.state === 'sent') ? x : null;
    }, 8000, 'all four messages sent');
    assert.deepEqual(done.messages.map((m) => m.id), sent.map((m) => m.id).reverse(), 'newest first');
    assert.deepEqual(done.messages.map((m) => m.messageId), sent.map((m) => m.messageId).reverse());
    for (const m of done.messages) {
      assert.ok(m.sentAt, 'a sent message has sentAt');
      assert.equal(m.problem, null);
    }
    assert.equal(done.messages.filter((m) => m.notified).length, 3, 'three notify, the fourth is silent');
    assert.equal(done.notificationsToday, 3);
  });

  test('bad messages are refused and change nothing', async () => {
    const c = await createCustomer(owner);
    const url = `/api/v1/customers/${c.id}/wallet/google/messages`;
    expectError(await owner.post(url, { header: 'x'.repeat(36), body: 'b' }), 400, 'validation_failed', 'header');
    expectError(await owner.post(url, { header: '', body: 'b' }), 400, 'validation_failed', 'header');
    expectError(await owner.post(url, { header: 'a\nb', body: 'b' }), 400, 'validation_failed', 'header');
    expectError(await owner.post(url, { header: 'h', body: 'b'.repeat(501) }), 400, 'validation_failed', 'body');
    expectError(await owner.post(url, { header: 'h' }), 400, 'validation_failed', 'body');
    expectError(await owner.post(url, { header: 'h', body: 'b', extra: 1 }), 400, 'validation_failed', 'extra');
    expectError(await owner.post(url, '{"header":', { contentType: 'application/json' }), 400, 'malformed_json');
    expectError(await owner.post(url, { header: 'h', body: 'b'.repeat(5000) }), 413, 'payload_too_large');
    const cashier = await srv.apiKeyClient('cashier');
    expectError(await cashier.post(url, { header: 'h', body: 'b' }), 403, 'forbidden');
    expectError(await srv.anon().post(url, { header: 'h', body: 'b' }), 401, 'unauthorized');
    expectError(await owner.post('/api/v1/customers/999999999/wallet/google/messages', { header: 'h', body: 'b' }), 404, 'not_found');
    assert.deepEqual((await report(c.id)).messages, [], 'nothing was queued');
  });

  test('an Idempotency-Key queues one message', async () => {
    const c = await createCustomer(owner);
    const url = `/api/v1/customers/${c.id}/wallet/google/messages`;
    const headers = { 'Idempotency-Key': `gm-${c.id}` };
    const a = await owner.post(url, { header: 'Once', body: 'only once' }, { headers });
    const b = await owner.post(url, { header: 'Once', body: 'only once' }, { headers });
    assert.equal(a.status, 202, a.text);
    assert.equal(b.status, 202, b.text);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assert.equal(b.body.id, a.body.id);
    expectError(await owner.post(url, { header: 'Other', body: 'x' }, { headers }), 409, 'idempotency_conflict');
    assert.equal((await report(c.id)).messages.length, 1);
  });

  test('the save link: an unknown one is 404, a known one a 302 to Google', async () => {
    const c = await createCustomer(owner);
    expectError(await srv.anon().get('/google/save/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
    const r = await srv.anon().get(new URL(c.walletLinks.google).pathname);
    assert.equal(r.status, 302, r.text);
    assert.match(r.headers.location, /^https:\/\/pay\.google\.com\/gp\/v\/save\/[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  test('a forged callback is 401 and saves nothing', async () => {
    const c = await createCustomer(owner);
    const forged = await srv.anon().post('/google/callback', { protocolVersion: 'ECv2SigningOnly', signedMessage: '{}', signature: 'AAAA', intermediateSigningKey: { signedKey: '{}', signatures: ['AAAA'] } });
    expectError(forged, 401, 'unauthorized');
    assert.equal((await report(c.id)).saved, false);
  });
});

describe('Google Wallet set up wrong', () => {
  let srv, owner;
  before(async () => {
    srv = await startServer({ env: { LOY_GOOGLE_ISSUER_ID: ISSUER } }); // no key file
    owner = await srv.owner();
  });
  after(async () => { await srv?.stop(); });

  test('the status says why; the report has no card; messages and links are 404', async () => {
    const s = await owner.get('/api/v1/wallet/status');
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.google.enabled, false);
    assert.equal(s.body.google.issuerId, null);
    assert.equal(s.body.google.serviceAccount, null);
    assert.match(s.body.google.problem, /LOY_GOOGLE_KEY_FILE/);
    const c = await createCustomer(owner);
    assert.equal(c.walletLinks.google, null);
    const r = await owner.get(`/api/v1/customers/${c.id}/wallet`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.google, null);
    expectError(await owner.post(`/api/v1/customers/${c.id}/wallet/google/messages`, { header: 'h', body: 'b' }), 404, 'not_found');
    expectError(await srv.anon().get('/google/save/AAAAAAAAAAAAAAAAAAAAAA'), 404, 'not_found');
    expectError(await srv.anon().post('/google/callback', { protocolVersion: 'ECv2SigningOnly' }), 404, 'not_found');
  });
});
