// Google Wallet end to end, as issue 4 checks it, against the strict fake Google
// (tests/fakes/google.js: the token endpoint verifying the service account's RS256 assertion, and
// walletobjects v1 checking every body against the schema extracted from @googleapis/walletobjects):
// create a template → class inserted; register → object inserted and a save link whose JWT verifies;
// credit → balance patched within 2 s (notifying); block → INACTIVE; a message → addMessage; the
// token endpoint failing for a while and 429 bursts → everything arrives once; callbacks recorded
// once per nonce.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, createCustomer, expectError } from './harness.js';
import { startFakeGoogle, makeServiceAccount } from '../fakes/google.js';

const ISSUER = '3388000000012345678';
let srv, g, sa, owner, till, dir;

before(async () => {
  sa = makeServiceAccount();
  g = await startFakeGoogle({ serviceAccountPublicKeyPem: sa.publicKeyPem, serviceAccountEmail: sa.email, issuerId: ISSUER });
  dir = mkdtempSync(path.join(tmpdir(), 'loy-google-'));
  const keyFile = path.join(dir, 'sa.json');
  sa.writeKeyFile(keyFile, g.tokenUri);
  srv = await startServer({
    env: { LOY_GOOGLE_ISSUER_ID: ISSUER, LOY_GOOGLE_KEY_FILE: keyFile, LOY_GOOGLE_API_URL: g.url, LOY_GOOGLE_KEYS_URL: g.keysUrl },
  });
  owner = await srv.owner();
  till = await srv.apiKeyClient('cashier');
});
after(async () => {
  await srv?.stop();
  await g?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const objects = () => [...g.state.objects.values()];
const objectOf = (card) => objects().find((o) => o.accountId === card);
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

test('template → class; register → object and a save link whose JWT verifies; credit → balance within 2 s', async () => {
  const t = await owner.post('/api/v1/templates', { name: 'Main', isDefault: true, design: { backgroundColor: '#1a2b3c', foregroundColor: '#ffffff', labelColor: '#cccccc' }, content: { organizationName: 'Кофейня', programName: 'Бонусы' } });
  assert.equal(t.status, 201, t.text);
  const cls = await until(() => [...g.state.classes.values()].find((c) => c.issuerName === 'Кофейня'), 3000, 'class inserted');
  assert.ok(cls.id.startsWith(`${ISSUER}.`));
  assert.equal(cls.hexBackgroundColor, '#1a2b3c');

  const c = await createCustomer(owner, { name: 'Ирина' });
  assert.match(c.walletLinks.google, /\/google\/save\/[A-Za-z0-9_-]+$/);
  const obj = await until(() => objectOf(c.cardNumber), 3000, 'object inserted');
  assert.equal(obj.classId, cls.id);
  assert.equal(obj.state, 'ACTIVE');
  assert.equal(obj.loyaltyPoints.balance.int, c.balance);
  assert.equal(obj.barcode.type, 'QR_CODE');
  assert.equal(obj.barcode.value, c.cardNumber);

  const save = await srv.anon().get(new URL(c.walletLinks.google).pathname);
  assert.equal(save.status, 302, save.text);
  const m = /^https:\/\/pay\.google\.com\/gp\/v\/save\/([^/]+)$/.exec(save.headers.location);
  assert.ok(m, save.headers.location);
  const jwt = m[1];
  assert.ok(jwt.length <= 1800, `the JWT is ${jwt.length} characters`);
  const [h, p, sig] = jwt.split('.');
  assert.equal(b64json(h).alg, 'RS256');
  assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), sa.publicKeyPem, Buffer.from(sig, 'base64url')), 'signed by the service account');
  const claims = b64json(p);
  assert.equal(claims.iss, sa.email);
  assert.equal(claims.aud, 'google');
  assert.equal(claims.typ, 'savetowallet');
  assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
  assert.deepEqual(claims.origins, []);
  assert.deepEqual(claims.payload, { loyaltyObjects: [{ id: obj.id, classId: cls.id }] }, 'a skinny JWT: the object was inserted beforehand');

  const t0 = Date.now();
  const cr = await till.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 250 });
  assert.equal(cr.status, 201, cr.text);
  await until(() => g.getObject(obj.id).loyaltyPoints.balance.int === cr.body.balanceAfter, 2000, 'balance patched');
  assert.ok(Date.now() - t0 <= 2000);
  const last = g.changes(obj.id).at(-1);
  assert.equal(last.op, 'patch');
  assert.equal(last.notified, true, 'a balance change notifies while the budget lasts');

  const blocked = await owner.patch(`/api/v1/customers/${c.id}`, { status: 'blocked' });
  assert.equal(blocked.status, 200, blocked.text);
  await until(() => g.getObject(obj.id).state === 'INACTIVE', 2000, 'state INACTIVE');
});

test('balance updates notify 3 times a day, then patch silently; messages fall back to TEXT', async () => {
  const c = await createCustomer(owner);
  const obj = await until(() => objectOf(c.cardNumber), 3000, 'object inserted');
  let balance = c.balance;
  for (let i = 0; i < 5; i++) {
    const r = await till.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 10 });
    balance = r.body.balanceAfter;
    await until(() => g.getObject(obj.id).loyaltyPoints.balance.int === balance, 3000, `credit ${i}`);
  }
  const patches = g.changes(obj.id).filter((x) => x.op === 'patch');
  assert.equal(patches.filter((x) => x.notified).length, 3, 'three notifying updates');
  assert.ok(patches.length >= 5);
  assert.equal(g.notificationsInWindow(obj.id), 3, 'Google never had to refuse one');

  const msg = await owner.post(`/api/v1/customers/${c.id}/wallet/google/messages`, { header: 'Акция', body: 'Двойные баллы в выходные' });
  assert.equal(msg.status, 202, msg.text);
  await until(() => g.changes(obj.id).some((x) => x.op === 'addMessage'), 3000, 'addMessage');
  const added = g.changes(obj.id).filter((x) => x.op === 'addMessage');
  assert.equal(added.length, 1);
  assert.equal(added[0].messageType, 'TEXT', 'the budget is spent: a silent message');
  const stored = g.getObject(obj.id).messages.find((x) => x.id === msg.body.messageId);
  assert.equal(stored.header, 'Акция');
});

test('the token endpoint failing for a while, then 429 bursts: every update arrives, once', async () => {
  const c = await createCustomer(owner);
  const obj = await until(() => objectOf(c.cardNumber), 3000, 'object inserted');
  g.revokeTokens(); // the next call gets 401 and must fetch a new token, from a failing endpoint
  g.setMode('tokenError', { count: 2 });
  g.setMode('tooMany', { count: 2, path: '/walletobjects/v1/loyaltyObject' });
  const r = await till.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 40 });
  assert.equal(r.status, 201);
  await until(() => g.getObject(obj.id).loyaltyPoints.balance.int === r.body.balanceAfter, 60000, 'balance after the outage');
  await sleep(1500);
  const patches = g.changes(obj.id).filter((x) => x.op === 'patch' && x.resource.loyaltyPoints?.balance?.int === r.body.balanceAfter);
  assert.equal(patches.length, 1, 'applied once');
  g.setMode('ok');
});

test('save and delete callbacks are verified and counted once per nonce', async () => {
  const c = await createCustomer(owner);
  const obj = await until(() => objectOf(c.cardNumber), 3000, 'object inserted');
  const url = `${srv.url}/google/callback`;
  const got = await g.deliverCallback({ url, classId: obj.classId, objectId: obj.id, eventType: 'save', times: 2 });
  assert.deepEqual(got.map((d) => d.status), [200, 200], got.map((d) => d.response).join(' | '));
  const report = await owner.get(`/api/v1/customers/${c.id}/wallet`);
  assert.equal(report.body.google?.saved, true, report.text);
  const forged = await srv.anon().post('/google/callback', { protocolVersion: 'ECv2SigningOnly', signedMessage: '{}', signature: 'AAAA', intermediateSigningKey: { signedKey: '{}', signatures: ['AAAA'] } });
  assert.equal(forged.status, 401, forged.text);
  const del = await g.deliverCallback({ url, classId: obj.classId, objectId: obj.id, eventType: 'del' });
  assert.equal(del[0].status, 200);
  const after = await owner.get(`/api/v1/customers/${c.id}/wallet`);
  assert.equal(after.body.google?.saved, false);
});

test('bad Google set-ups: the server runs, Google Wallet is off, and the log and the status say why', async () => {
  const bad = path.join(dir, 'bad.json');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(bad, '{"type":"service_account","client_email":"x@y"'); // cut short
  const good = path.join(dir, 'sa.json');
  const cases = [
    [{ LOY_GOOGLE_ISSUER_ID: '1234567890', LOY_GOOGLE_KEY_FILE: good }, /Google refused the set-up \(HTTP 403.*LOY_GOOGLE_ISSUER_ID/],
    [{ LOY_GOOGLE_ISSUER_ID: ISSUER, LOY_GOOGLE_KEY_FILE: bad }, /bad\.json/],
    [{ LOY_GOOGLE_ISSUER_ID: ISSUER, LOY_GOOGLE_KEY_FILE: path.join(dir, 'missing.json') }, /missing\.json/],
    [{ LOY_GOOGLE_ISSUER_ID: 'not-digits', LOY_GOOGLE_KEY_FILE: good }, /digits/],
    [{ LOY_GOOGLE_DIR: path.join(dir, 'gdir') }, /no business has the slug nobody/],
    [{ LOY_GOOGLE_DIR: path.join(dir, 'no-such-dir') }, /no-such-dir/],
  ];
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.join(dir, 'gdir', 'nobody'), { recursive: true });
  for (const [env, re] of cases) {
    const s = await startServer({ env: { ...env, LOY_GOOGLE_API_URL: g.url } });
    try {
      const st = await (await s.owner()).get('/api/v1/wallet/status');
      assert.equal(st.status, 200, st.text);
      assert.equal(st.body.google.enabled, false);
      assert.match(st.body.google.problem, re, JSON.stringify(env));
      assert.ok(s.logText().includes('Google Wallet is off'), 'said at start too');
      const c = await createCustomer(await s.owner());
      assert.equal(c.walletLinks.google, null);
    } finally {
      await s.stop();
    }
  }
});

test('the class logo Google fetches is a public PNG of the business', async () => {
  const cls = [...g.state.classes.values()][0];
  const uri = cls.programLogo.sourceUri.uri;
  const m = /\/wallet\/logo\/(\d+)\.png$/.exec(uri);
  assert.ok(m, uri);
  const got = await srv.anon().get(new URL(uri).pathname);
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'image/png');
  assert.deepEqual([...got.raw.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expectError(await srv.anon().get('/wallet/logo/999999.png'), 404, 'not_found');
  expectError(await srv.anon().get('/wallet/logo/..%2Fetc.png'), 404, 'not_found');
  expectError(await srv.anon().get('/wallet/logo/1.jpg'), 404, 'not_found');
});

test('a business with its own issuer (LOY_GOOGLE_DIR/<slug>/) keeps its cards under it', async () => {
  const OTHER = '3388000000099999999';
  const sa1 = makeServiceAccount();
  const sa2 = makeServiceAccount({ email: 'other@other-shop.iam.gserviceaccount.com', projectId: 'other-shop' });
  const fake = await startFakeGoogle({ accounts: [
    { email: sa1.email, publicKeyPem: sa1.publicKeyPem, issuerIds: [ISSUER] },
    { email: sa2.email, publicKeyPem: sa2.publicKeyPem, issuerIds: [OTHER] },
  ] });
  const d = mkdtempSync(path.join(tmpdir(), 'loy-gdir-'));
  const { mkdirSync, writeFileSync } = await import('node:fs');
  sa1.writeKeyFile(path.join(d, 'install.json'), fake.tokenUri);
  mkdirSync(path.join(d, 'dir', 'other'), { recursive: true });
  writeFileSync(path.join(d, 'dir', 'other', 'issuer_id'), `${OTHER}\n`);
  sa2.writeKeyFile(path.join(d, 'dir', 'other', 'key.json'), fake.tokenUri);
  const { LoyServer } = await import('./harness.js');
  const s = new LoyServer({ env: { LOY_GOOGLE_ISSUER_ID: ISSUER, LOY_GOOGLE_KEY_FILE: path.join(d, 'install.json'), LOY_GOOGLE_DIR: path.join(d, 'dir'), LOY_GOOGLE_API_URL: fake.url } });
  try {
    await s.init();
    await s.cliOk(['business', 'add', '--name', 'Other Shop', '--slug', 'other']);
    await s.start();
    const key = await s.cliOk(['apikey', 'create', '--name', 'other', '--role', 'admin', '--business', 'other']);
    const other = s.anon();
    await other.useApiKey(key.split('\n').pop().trim());
    const st = await other.get('/api/v1/wallet/status');
    assert.equal(st.body.google.issuerId, OTHER);
    assert.equal(st.body.google.serviceAccount, sa2.email);
    const c = await createCustomer(other);
    const o = await until(() => [...fake.state.objects.values()].find((x) => x.accountId === c.cardNumber), 3000, 'object');
    assert.ok(o.id.startsWith(`${OTHER}.`), o.id);
    assert.ok(o.classId.startsWith(`${OTHER}.`));
    const mine = await createCustomer(await s.owner());
    const m = await until(() => [...fake.state.objects.values()].find((x) => x.accountId === mine.cardNumber), 3000, 'object');
    assert.ok(m.id.startsWith(`${ISSUER}.`), 'the default business keeps the install issuer');
  } finally {
    await s.stop();
    await fake.stop();
    rmSync(d, { recursive: true, force: true });
  }
});
