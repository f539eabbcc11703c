// Delivery you can see (issue 3): the per-pass device report, the device log, download-link
// revocation and the install's Apple Wallet status, as the admin panel reads them.
//
// A simulated device talks to the PassKit web service like Wallet on an iPhone (registers its push
// token, writes to the log endpoint, asks what changed, downloads the pass); a fake APNs
// (tests/fakes/apns.js) answers the pushes. The report must follow each step.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, createCustomer, expectError, appleCerts, unpackPkpass, APPLE_PASS_TYPE_ID } from './harness.js';
import { startFakeApns } from '../fakes/apns.js';

const hex8 = /^[0-9a-f]{8}$/;

function label(libraryId) {
  return crypto.createHash('sha256').update(libraryId).digest('hex').slice(0, 8);
}

async function passJson(buf) {
  return (await unpackPkpass(buf)).passJson;
}

/** Runs a query on the server's database (SQLite file or PostgreSQL) and returns its text output. */
function sql(srv, query) {
  if (srv.dbUrl.startsWith('sqlite:')) return execFileSync('sqlite3', [srv.dbUrl.slice('sqlite:'.length), query]).toString().trim();
  return execFileSync('psql', [srv.dbUrl, '-qAtc', query]).toString().trim();
}

async function poll(what, fn, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('Apple Wallet off', () => {
  let srv, owner;
  before(async () => {
    srv = await startServer();
    owner = await srv.owner();
  });
  after(async () => { await srv?.stop(); });

  test('a customer\'s report is {"apple": null} and the status says Apple Wallet is off', async () => {
    const c = await createCustomer(owner);
    const r = await owner.get(`/api/v1/customers/${c.id}/wallet`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { apple: null, google: null });
    const s = await owner.get('/api/v1/wallet/status');
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.apple.enabled, false);
    assert.equal(s.body.apple.passTypeIdentifier, null);
    assert.equal(s.body.apple.certificateExpiresAt, null);
    assert.equal(s.body.apple.certificateBroken, false);
    assert.equal(s.body.apple.certificateProblem, null);
    assert.ok(Number.isInteger(s.body.apple.outbox.queued) && Number.isInteger(s.body.apple.outbox.dead));
    assert.deepEqual(s.body.google, { enabled: false, issuerId: null, serviceAccount: null, problem: null });
  });

  test('there is no link to rotate and no device log', async () => {
    const c = await createCustomer(owner);
    expectError(await owner.post(`/api/v1/customers/${c.id}/wallet/apple/link`), 404, 'not_found');
    const l = await owner.get('/api/v1/wallet/apple/logs');
    assert.equal(l.status, 200, l.text);
    assert.deepEqual(l.body, { items: [] });
  });
});

describe('Apple Wallet on', () => {
  let srv, owner, apns, ptid, other;
  const cust = {}; // the customer with a pass: id, serial, token, url, lib, pushToken
  const wallet = (c = owner, id = cust.id) => c.get(`/api/v1/customers/${id}/wallet`);
  const device = () => srv.anon();

  async function report(id = cust.id) {
    const r = await wallet(owner, id);
    assert.equal(r.status, 200, r.text);
    return r.body.apple;
  }

  async function download(url) {
    const res = await fetch(url);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  }

  const auth = (token) => ({ headers: { Authorization: `ApplePass ${token}` } });
  const regPath = (lib, serial = cust.serial) => `/passkit/v1/devices/${lib}/registrations/${ptid}/${serial}`;

  before(async () => {
    const certs = await appleCerts();
    apns = await startFakeApns({
      caFile: path.join(certs, 'ca.pem'),
      certFile: path.join(certs, 'localhost.pem'),
      keyFile: path.join(certs, 'localhost.key'),
    });
    // A customer from before Apple Wallet was turned on has no pass.
    srv = await startServer();
    owner = await srv.owner();
    cust.before = (await createCustomer(owner)).id;
    srv.extraEnv = {
      LOY_APPLE_PASS_CERT: path.join(certs, 'pass.pem'),
      LOY_APPLE_PASS_KEY: path.join(certs, 'pass.key'),
      LOY_APPLE_WWDR_CERT: path.join(certs, 'wwdr.pem'),
      LOY_APNS_URL: apns.url,
      LOY_APNS_CA_FILE: path.join(certs, 'ca.pem'),
      LOY_PASS_CACHE_DIR: path.join(srv.dir, 'passes'),
    };
    await srv.restart();

    const c = await createCustomer(owner);
    cust.id = c.id;
    cust.url = c.walletLinks?.apple;
    assert.ok(cust.url, `the customer carries its Apple Wallet link: ${JSON.stringify(c)}`);
    const d = await download(cust.url);
    assert.equal(d.status, 200);
    const pj = await passJson(d.body);
    cust.serial = pj.serialNumber;
    cust.token = pj.authenticationToken;
    ptid = pj.passTypeIdentifier;
    assert.equal(ptid, APPLE_PASS_TYPE_ID);
    cust.lib = crypto.randomBytes(16).toString('hex');
    cust.pushToken = crypto.randomBytes(32).toString('hex');

    // A second business, to show that nothing of one reaches the other.
    await srv.cliOk(['business', 'add', '--name', 'Other Shop', '--slug', 'other']);
    await srv.cliOk(['user', 'add', '--email', 'owner-o@test.loy', '--role', 'owner', '--business', 'other'], 'other-owner-password\n');
    other = await srv.login('owner-o@test.loy', 'other-owner-password');
  });
  after(async () => {
    await srv?.stop();
    await apns?.stop();
  });

  test('the status shows the certificate and no problem', async () => {
    const s = await owner.get('/api/v1/wallet/status');
    assert.equal(s.status, 200, s.text);
    const a = s.body.apple;
    assert.equal(a.enabled, true);
    assert.equal(a.passTypeIdentifier, ptid);
    assert.equal(a.teamIdentifier, 'LOYDEV0001');
    assert.ok(Date.parse(a.certificateExpiresAt) > Date.now(), a.certificateExpiresAt);
    assert.equal(a.certificateBroken, false);
    assert.equal(a.certificateProblem, null);
    assert.equal(a.ownCertificate, false, 'the install\'s certificate');
    assert.equal(a.androidPush, false);
    assert.equal(a.androidPushBroken, false);
    assert.equal(a.androidPushProblem, null);
    // A business without a certificate of its own issues passes with the install's.
    const o = await other.get('/api/v1/wallet/status');
    assert.equal(o.status, 200, o.text);
    assert.equal(o.body.apple.enabled, true);
    assert.equal(o.body.apple.passTypeIdentifier, ptid);
    assert.equal(o.body.apple.ownCertificate, false);
  });

  test('a pass with no device yet: its link, serial, version and no devices', async () => {
    const a = await report();
    assert.equal(a.serialNumber, cust.serial);
    assert.equal(a.passTypeIdentifier, ptid);
    assert.equal(a.downloadUrl, cust.url);
    assert.ok(a.downloadUrl.startsWith(`${srv.url}/passes/`), a.downloadUrl);
    assert.ok(Date.parse(a.version) > 0 && Date.parse(a.createdAt) > 0);
    assert.deepEqual(a.devices, []);
    assert.deepEqual(a.log, []);
  });

  test('a device that registered shows at stage "registered", without its secrets', async () => {
    const r = await device().post(regPath(cust.lib), { pushToken: cust.pushToken }, auth(cust.token));
    assert.equal(r.status, 201, r.text);
    const res = await wallet();
    assert.ok(!res.text.includes(cust.lib), 'the library id is never shown');
    assert.ok(!res.text.includes(cust.pushToken), 'the push token is never shown');
    assert.ok(!res.text.includes(cust.token), 'the authentication token is never shown');
    const [d, ...more] = res.body.apple.devices;
    assert.equal(more.length, 0);
    assert.equal(d.device, label(cust.lib));
    assert.match(d.device, hex8);
    assert.equal(d.kind, 'apple');
    assert.ok(Date.parse(d.registeredAt) > 0);
    assert.ok(Date.parse(d.pushTokenUpdatedAt) >= Date.parse(d.registeredAt));
    assert.equal(d.lastPush, null);
    assert.equal(d.lastListed, null);
    assert.equal(d.lastFetch, null);
    assert.equal(d.holdsVersion, null);
    assert.equal(d.upToDate, false);
    assert.equal(d.stage, 'registered');
    // The label is stable, and a second device of the pass is listed after the first.
    const lib2 = crypto.randomBytes(16).toString('hex');
    const r2 = await device().post(regPath(lib2), { pushToken: crypto.randomBytes(32).toString('hex') }, auth(cust.token));
    assert.equal(r2.status, 201, r2.text);
    const two = (await report()).devices;
    assert.deepEqual(two.map((x) => x.device), [label(cust.lib), label(lib2)]);
    const u = await device().request('DELETE', regPath(lib2), auth(cust.token));
    assert.equal(u.status, 200, u.text);
    assert.deepEqual((await report()).devices.map((x) => x.device), [label(cust.lib)]);
    // An Android app reading .pkpass files registers through the same service.
    const lib3 = crypto.randomBytes(16).toString('hex');
    const r3 = await device().post(regPath(lib3), { pushToken: `android-${crypto.randomBytes(40).toString('base64url')}` },
      { headers: { Authorization: `AndroidPass ${cust.token}` } });
    assert.equal(r3.status, 201, r3.text);
    const android = (await report()).devices.find((x) => x.device === label(lib3));
    assert.equal(android.kind, 'android');
    assert.equal(android.stage, 'registered');
    assert.equal((await device().request('DELETE', regPath(lib3), { headers: { Authorization: `AndroidPass ${cust.token}` } })).status, 200);
  });

  test('what a device writes to the log endpoint shows with its pass and in the admin log', async () => {
    const msg = `[${new Date().toISOString()}] Web service error for ${ptid} (${srv.url}/passkit): Update requested for unregistered serial number ${cust.serial}`;
    const r = await device().post('/passkit/v1/log', { logs: [msg] });
    assert.equal(r.status, 200, r.text);
    const a = await report();
    assert.equal(a.log.length, 1, JSON.stringify(a.log));
    assert.equal(a.log[0].message, msg);
    assert.ok(Date.parse(a.log[0].at) > 0);
    const l = await owner.get(`/api/v1/wallet/apple/logs?serial=${cust.serial}`);
    assert.equal(l.status, 200, l.text);
    assert.equal(l.body.items.length, 1);
    assert.equal(l.body.items[0].serialNumber, cust.serial);
    assert.equal(l.body.items[0].message, msg);
    const all = await owner.get('/api/v1/wallet/apple/logs?limit=1');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.items.map((i) => i.message), [msg]);
    // The other business sees none of it.
    const o = await other.get('/api/v1/wallet/apple/logs');
    assert.equal(o.status, 200, o.text);
    assert.deepEqual(o.body.items, []);
  });

  test('the device log: newest first, limit honoured, other passes filtered out', async () => {
    const c2 = await createCustomer(owner);
    const pj = await passJson((await download(c2.walletLinks.apple)).body);
    for (const m of ['first', 'second', 'third']) {
      const r = await device().post('/passkit/v1/log', { logs: [`${m} message about serial number ${pj.serialNumber}`] });
      assert.equal(r.status, 200, r.text);
    }
    const l = await owner.get(`/api/v1/wallet/apple/logs?serial=${pj.serialNumber}&limit=2`);
    assert.equal(l.status, 200, l.text);
    assert.deepEqual(l.body.items.map((i) => i.message.split(' ')[0]), ['third', 'second']);
    assert.ok(l.body.items[0].id > l.body.items[1].id);
    assert.deepEqual((await report(c2.id)).log.map((i) => i.message.split(' ')[0]), ['third', 'second', 'first']);
    assert.equal((await report()).log.length, 1, 'the first customer\'s pass has only its own message');
  });

  test('rotating the link: the old one stops working, the pass and its devices stay', async () => {
    const before = await report();
    const audited = `SELECT count(*) FROM audit_log WHERE action = 'wallet.apple.link_rotate' AND target = 'customer:${cust.id}'`;
    assert.equal(sql(srv, audited), '0');
    const r = await owner.post(`/api/v1/customers/${cust.id}/wallet/apple/link`);
    assert.equal(r.status, 200, r.text);
    assert.equal(sql(srv, audited), '1', 'the rotation is in the audit log');
    assert.notEqual(r.body.downloadUrl, before.downloadUrl);
    assert.ok(r.body.downloadUrl.startsWith(`${srv.url}/passes/`));
    assert.equal((await download(before.downloadUrl)).status, 404, 'the old link is dead');
    const d = await download(r.body.downloadUrl);
    assert.equal(d.status, 200);
    const pj = await passJson(d.body);
    assert.equal(pj.serialNumber, cust.serial);
    assert.equal(pj.authenticationToken, cust.token);
    const after = await report();
    assert.equal(after.downloadUrl, r.body.downloadUrl);
    assert.equal(after.version, before.version, 'the pass did not change');
    assert.deepEqual(after.devices.map((x) => x.device), before.devices.map((x) => x.device));
    // The device keeps working with the serial and token it has.
    const again = await device().post(regPath(cust.lib), { pushToken: cust.pushToken }, auth(cust.token));
    assert.equal(again.status, 200, again.text);
    cust.url = r.body.downloadUrl;
    // An empty object is a body too; the same Idempotency-Key replays the same link.
    const k = { headers: { 'Idempotency-Key': `rotate-${crypto.randomUUID()}` } };
    const r1 = await owner.post(`/api/v1/customers/${cust.id}/wallet/apple/link`, {}, k);
    assert.equal(r1.status, 200, r1.text);
    const r2 = await owner.post(`/api/v1/customers/${cust.id}/wallet/apple/link`, {}, k);
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.headers['idempotent-replayed'], 'true');
    assert.equal(r2.body.downloadUrl, r1.body.downloadUrl);
    assert.equal((await report()).downloadUrl, r1.body.downloadUrl);
    cust.url = r1.body.downloadUrl;
  });

  test('a customer without a pass: the report is null until the admin issues one (201); an erased one is 404', async () => {
    assert.deepEqual((await wallet(owner, cust.before)).body, { apple: null, google: null });
    const viewer = await srv.apiKeyClient('viewer');
    expectError(await viewer.post(`/api/v1/customers/${cust.before}/wallet/apple/link`), 403, 'forbidden');
    assert.deepEqual((await wallet(owner, cust.before)).body, { apple: null, google: null }, 'a refusal issues nothing');
    const r = await owner.post(`/api/v1/customers/${cust.before}/wallet/apple/link`);
    assert.equal(r.status, 201, r.text);
    const report = (await wallet(owner, cust.before)).body.apple;
    assert.ok(report, 'the pass now exists');
    assert.equal(report.downloadUrl, r.body.downloadUrl);
    const got = await srv.anon().get(new URL(r.body.downloadUrl).pathname);
    assert.equal(got.status, 200);
    const again = await owner.post(`/api/v1/customers/${cust.before}/wallet/apple/link`);
    assert.equal(again.status, 200, 'the second call rotates');
    assert.notEqual(again.body.downloadUrl, r.body.downloadUrl);
    const c = await createCustomer(owner);
    assert.equal((await owner.del(`/api/v1/customers/${c.id}`)).status, 204);
    expectError(await wallet(owner, c.id), 404, 'not_found');
    expectError(await owner.post(`/api/v1/customers/${c.id}/wallet/apple/link`), 404, 'not_found');
  });

  test('roles: viewers read the report; only admins rotate, see the status and the device log', async () => {
    const viewer = await srv.staff('viewer');
    const viewerKey = await srv.apiKeyClient('viewer');
    const cashier = await srv.staff('cashier');
    const admin = await srv.staff('admin');
    for (const c of [viewer, viewerKey, cashier]) {
      const r = await wallet(c);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.apple.serialNumber, cust.serial);
      expectError(await c.post(`/api/v1/customers/${cust.id}/wallet/apple/link`), 403, 'forbidden');
      expectError(await c.get('/api/v1/wallet/status'), 403, 'forbidden');
      expectError(await c.get('/api/v1/wallet/apple/logs'), 403, 'forbidden');
    }
    assert.equal((await report()).downloadUrl, cust.url, 'refusals rotate nothing');
    const anon = srv.anon();
    expectError(await anon.get(`/api/v1/customers/${cust.id}/wallet`), 401, 'unauthorized');
    expectError(await anon.post(`/api/v1/customers/${cust.id}/wallet/apple/link`), 401, 'unauthorized');
    expectError(await anon.get('/api/v1/wallet/status'), 401, 'unauthorized');
    expectError(await anon.get('/api/v1/wallet/apple/logs'), 401, 'unauthorized');
    expectError(await admin.post(`/api/v1/customers/${cust.id}/wallet/apple/link`, undefined, { csrf: false }), 403, 'forbidden');
    assert.equal((await report()).downloadUrl, cust.url, 'no CSRF token, no rotation');
    assert.equal((await admin.get('/api/v1/wallet/status')).status, 200);
    assert.equal((await admin.get('/api/v1/wallet/apple/logs')).status, 200);
    const r = await admin.post(`/api/v1/customers/${cust.id}/wallet/apple/link`);
    assert.equal(r.status, 200, r.text);
    cust.url = r.body.downloadUrl;
  });

  test("another business's customer is 404 and keeps its link", async () => {
    expectError(await wallet(other), 404, 'not_found');
    expectError(await other.post(`/api/v1/customers/${cust.id}/wallet/apple/link`), 404, 'not_found');
    assert.equal((await report()).downloadUrl, cust.url);
    assert.equal((await download(cust.url)).status, 200);
  });

  test('malformed ids, bodies and query parameters are refused and change nothing', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999', '%00', '999999999']) {
      expectError(await owner.get(`/api/v1/customers/${id}/wallet`), 404, 'not_found');
      expectError(await owner.post(`/api/v1/customers/${id}/wallet/apple/link`), 404, 'not_found');
    }
    const link = `/api/v1/customers/${cust.id}/wallet/apple/link`;
    expectError(await owner.post(link, { rotate: true }), 400, 'validation_failed', 'rotate');
    expectError(await owner.post(link, '{"a":'), 400, 'malformed_json');
    expectError(await owner.post(link, [1]), 400, 'malformed_json');
    expectError(await owner.post(link, 'x', { contentType: 'text/plain' }), 415, 'unsupported_media_type');
    expectError(await owner.post(link, { pad: 'x'.repeat(5000) }), 413, 'payload_too_large');
    expectError(await owner.post(link, undefined, { headers: { 'Idempotency-Key': 'bad key\u00e9' } }), 400, 'validation_failed', 'Idempotency-Key');
    expectError(await owner.request('DELETE', link), 405, 'method_not_allowed');
    assert.equal((await report()).downloadUrl, cust.url, 'nothing rotated');

    const logs = '/api/v1/wallet/apple/logs';
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5']) expectError(await owner.get(`${logs}?${q}`), 400, 'validation_failed', 'limit');
    for (const s of ['', 'a/b', '..%2F..', 'x'.repeat(65), 'a%20b', '%C3%A9', "a'--"]) {
      expectError(await owner.get(`${logs}?serial=${s}`), 400, 'validation_failed', 'serial');
    }
    expectError(await owner.get(`${logs}?device=1`), 400, 'validation_failed', 'device');
    const none = await owner.get(`${logs}?serial=${'0'.repeat(64)}`);
    assert.equal(none.status, 200, none.text);
    assert.deepEqual(none.body.items, [], 'a serial no pass has: no messages');
  });

  // The delivery chain needs the push job (wallet/apple/wallet.c) and the fake APNs.
  test('delivery chain: a change is pushed (APNs 200), the device lists and fetches it', async () => {
    apns.reset();
    const v0 = (await report()).version;
    const tx = await owner.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 25 });
    assert.equal(tx.status, 201, tx.text);
    await apns.waitFor((ps) => ps.some((p) => p.token === cust.pushToken && p.status === 200), 5000);
    const a = await poll('the push to be recorded', async () => {
      const x = await report();
      return x.devices[0].lastPush?.status === 'done' ? x : null;
    });
    assert.ok(Date.parse(a.version) > Date.parse(v0), `the version moved: ${v0} → ${a.version}`);
    let d = a.devices[0];
    assert.equal(d.lastPush.version, a.version);
    assert.equal(d.lastPush.detail, null);
    assert.equal(d.stage, 'pushed');
    assert.equal(d.upToDate, false);

    // The device asks what changed since the tag it had (none: everything), then downloads.
    const list = await device().get(`/passkit/v1/devices/${cust.lib}/registrations/${ptid}`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.serialNumbers, [cust.serial]);
    d = (await report()).devices[0];
    assert.ok(Date.parse(d.lastListed.at) > 0);
    assert.equal(d.lastListed.since, null);
    assert.equal(d.stage, 'pushed');
    const pass = await device().get(`/passkit/v1/passes/${ptid}/${cust.serial}`, auth(cust.token));
    assert.equal(pass.status, 200);
    const b = await report();
    d = b.devices[0];
    assert.equal(d.lastFetch.version, b.version);
    assert.equal(d.holdsVersion, b.version);
    assert.equal(d.upToDate, true);
    assert.equal(d.stage, 'fetched');

    // Asking again with the tag it was given: the report shows the tag as the version the
    // device said it held (the service may list the pass again: its tags lag the clock a little).
    const tag = list.body.lastUpdated;
    assert.match(tag, /^[0-9]+$/);
    const again = await device().get(`/passkit/v1/devices/${cust.lib}/registrations/${ptid}?passesUpdatedSince=${tag}`);
    assert.ok([200, 204].includes(again.status), again.text);
    d = (await report()).devices[0];
    assert.equal(d.lastListed.since, new Date(Number(tag)).toISOString());
    assert.equal(d.holdsVersion, b.version);
    assert.equal(d.stage, 'fetched');
  });

  // Last: after a 403 the install stops pushing until the certificate is fixed.
  test('APNs refuses the certificate (403): push_failed with its reason, the status says broken', async () => {
    apns.reset();
    apns.setMode('forbidden', { reason: 'BadCertificate' });
    const tx = await owner.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 5 });
    assert.equal(tx.status, 201, tx.text);
    await apns.waitFor((ps) => ps.some((p) => p.status === 403), 5000);
    const a = await poll('the refusal to be recorded', async () => {
      const x = await report();
      return x.devices[0].stage === 'push_failed' ? x : null;
    });
    const d = a.devices[0];
    assert.equal(d.lastPush.status, 'cert_broken');
    assert.match(d.lastPush.detail, /BadCertificate/);
    assert.equal(d.lastPush.version, a.version);
    assert.equal(d.upToDate, false);
    const s = await owner.get('/api/v1/wallet/status');
    assert.equal(s.status, 200, s.text);
    assert.equal(s.body.apple.certificateBroken, true);
    assert.match(s.body.apple.certificateProblem, /BadCertificate/);
  });
});

