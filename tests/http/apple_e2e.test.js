// Apple Wallet end to end, as issue 3 checks it: a customer registers and downloads the pass, a
// simulated iPhone registers its push token with the PassKit web service, points are credited, the
// fake APNs (tests/fakes/apns.js: client certificate from the development CA, topic, path and `{}`
// payload checked like Apple does) receives the push within 2 s, the device lists what changed,
// downloads the new pass (which shows the new balance and verifies with openssl) and gets 304
// afterwards, then unregisters. The same with 410 Unregistered (the registration is removed), with
// APNs down for a while (delivered once it is back, once), with a blocked customer (voided) and with
// a template change (every pass pushed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, appleCerts, unpackPkpass, createCustomer, APPLE_PASS_TYPE_ID } from './harness.js';
import { startFakeApns } from '../fakes/apns.js';
import { png } from './lib/png.js';

let srv, owner, cashier, apns, certs, apnsPort;

before(async () => {
  certs = await appleCerts();
  apns = await startFakeApns(apnsOptions(0));
  apnsPort = apns.port;
  srv = await startServer({ apple: { apnsUrl: apns.url } });
  owner = await srv.owner();
  cashier = await srv.apiKeyClient('cashier');
});
after(async () => {
  await srv?.stop();
  await apns?.stop();
});

function apnsOptions(port) {
  return {
    caFile: path.join(certs, 'ca.pem'),
    certFile: path.join(certs, 'localhost.pem'),
    keyFile: path.join(certs, 'localhost.key'),
    port,
  };
}

const pushToken = () => crypto.randomBytes(32).toString('hex');
const libraryId = () => crypto.randomBytes(16).toString('hex');
const pushesTo = (token) => apns.pushes.filter((p) => p.token === token);

/** A customer with a downloaded pass: { customer, pass (pass.json), files, raw }. */
async function customerWithPass(fields = {}) {
  const customer = await createCustomer(owner, fields);
  assert.match(customer.walletLinks.apple, /\/passes\/[A-Za-z0-9_-]+\.pkpass$/);
  const pkpass = await download(new URL(customer.walletLinks.apple).pathname);
  return { customer, ...pkpass };
}

async function download(urlPath, headers = {}) {
  const res = await srv.anon().get(urlPath, { headers });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['content-type'], 'application/vnd.apple.pkpass');
  const { files, passJson } = await unpackPkpass(res.raw);
  await verifyPkpass(files);
  return { pass: passJson, files, raw: res.raw, res };
}

/** What Wallet checks: the manifest covers every file with its SHA-1, the detached PKCS#7 signature
 * over manifest.json verifies up to the (development) root, and pass.json has a storeCard's keys. */
async function verifyPkpass(files) {
  const names = Object.keys(files).sort();
  assert.ok(names.includes('pass.json') && names.includes('manifest.json') && names.includes('signature') && names.includes('icon.png'), names.join(','));
  const manifest = JSON.parse(files['manifest.json'].toString('utf8'));
  for (const name of names.filter((n) => n !== 'manifest.json' && n !== 'signature')) {
    assert.equal(manifest[name], crypto.createHash('sha1').update(files[name]).digest('hex'), `manifest SHA-1 of ${name}`);
  }
  assert.deepEqual(Object.keys(manifest).sort(), names.filter((n) => n !== 'manifest.json' && n !== 'signature'));
  const dir = mkdtempSync(path.join(tmpdir(), 'pkpass-'));
  try {
    writeFileSync(path.join(dir, 'manifest.json'), files['manifest.json']);
    writeFileSync(path.join(dir, 'signature'), files.signature);
    const r = await new Promise((resolve) => execFile('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'signature'), '-content', path.join(dir, 'manifest.json'), '-CAfile', path.join(certs, 'ca.pem'), '-purpose', 'any', '-out', '/dev/null'], (err, stdout, stderr) => resolve({ err, stderr })));
    assert.equal(r.err, null, `openssl cms -verify: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const p = JSON.parse(files['pass.json'].toString('utf8'));
  for (const k of ['formatVersion', 'passTypeIdentifier', 'serialNumber', 'teamIdentifier', 'organizationName', 'description', 'webServiceURL', 'authenticationToken', 'storeCard']) {
    assert.ok(p[k] !== undefined, `pass.json has ${k}`);
  }
  assert.equal(p.formatVersion, 1);
  assert.equal(p.passTypeIdentifier, APPLE_PASS_TYPE_ID);
  assert.ok(p.authenticationToken.length >= 16);
  assert.ok(!p.webServiceURL.endsWith('/'));
  assert.equal(p.barcodes[0].format, 'PKBarcodeFormatQR');
}

const balanceOf = (pass) => pass.storeCard.primaryFields.find((f) => f.key === 'balance').value;

/** A simulated iPhone holding one pass. */
function device(pass, token = pushToken()) {
  const lib = libraryId();
  const regPath = `/passkit/v1/devices/${lib}/registrations/${pass.passTypeIdentifier}/${pass.serialNumber}`;
  const auth = { Authorization: `ApplePass ${pass.authenticationToken}` };
  return {
    lib,
    token,
    register: () => srv.anon().post(regPath, { pushToken: token }, { headers: auth }),
    unregister: () => srv.anon().del(regPath, { headers: auth }),
    list: (tag) => srv.anon().get(`/passkit/v1/devices/${lib}/registrations/${pass.passTypeIdentifier}${tag ? `?passesUpdatedSince=${tag}` : ''}`),
    fetch: (headers = {}) => srv.anon().get(`/passkit/v1/passes/${pass.passTypeIdentifier}/${pass.serialNumber}`, { headers: { ...auth, ...headers } }),
  };
}

async function credit(customerId, amount) {
  const r = await cashier.post(`/api/v1/customers/${customerId}/transactions`, { type: 'credit', amount });
  assert.equal(r.status, 201, r.text);
  return r.body;
}

test('register → download → device registers → credit → push within 2 s → list → fetch new balance → 304 → unregister', async () => {
  const { customer, pass } = await customerWithPass({ name: 'Анна' });
  assert.equal(balanceOf(pass), customer.balance);
  assert.match(pass.webServiceURL, /^https?:\/\/[^/]+\/passkit$/);
  const d = device(pass);

  assert.equal((await d.register()).status, 201);
  assert.equal((await d.register()).status, 200, 'the same registration again is 200');
  const first = await d.list();
  assert.equal(first.status, 200, first.text);
  assert.deepEqual(first.body.serialNumbers, [pass.serialNumber]);
  assert.equal(typeof first.body.lastUpdated, 'string', 'lastUpdated is a JSON string');
  const tag = first.body.lastUpdated;
  const got = await d.fetch();
  assert.equal(got.status, 200);
  const lastModified = got.headers['last-modified'];
  assert.ok(lastModified, 'Last-Modified is sent');

  const before = pushesTo(d.token).length;
  const t0 = Date.now();
  const tx = await credit(customer.id, 250);
  const push = await apns.waitFor(() => pushesTo(d.token).slice(before).find((p) => p.status != null), 2000);
  assert.ok(Date.now() - t0 <= 2000, `pushed ${Date.now() - t0} ms after the credit`);
  assert.equal(push.status, 200);
  assert.equal(push.topic, APPLE_PASS_TYPE_ID);
  assert.equal(push.body, '{}');
  assert.equal(push.path, `/3/device/${d.token}`);

  const listed = await d.list(tag);
  assert.equal(listed.status, 200, listed.text);
  assert.ok(listed.body.serialNumbers.includes(pass.serialNumber), 'the updated serial is listed since the tag');
  assert.ok(BigInt(listed.body.lastUpdated) >= BigInt(tag), 'the tag never goes back');

  const fresh = await d.fetch({ 'If-Modified-Since': lastModified });
  assert.equal(fresh.status, 200, 'the pass changed since the device got it');
  assert.equal(fresh.headers['content-type'], 'application/vnd.apple.pkpass');
  const { files, passJson } = await unpackPkpass(fresh.raw);
  await verifyPkpass(files);
  assert.equal(balanceOf(passJson), tx.balanceAfter, 'the new pass shows the new balance');
  assert.equal(passJson.serialNumber, pass.serialNumber, 'the serial number never changes');
  assert.equal(passJson.authenticationToken, pass.authenticationToken, 'nor the token');
  assert.notEqual(fresh.headers['last-modified'], lastModified);
  const again = await d.fetch({ 'If-Modified-Since': fresh.headers['last-modified'] });
  assert.equal(again.status, 304);
  assert.equal(again.raw.length, 0);

  // The delivery chain, as the admin sees it.
  const report = await owner.get(`/api/v1/customers/${customer.id}/wallet`);
  assert.equal(report.status, 200, report.text);
  const dev = report.body.apple.devices;
  assert.equal(dev.length, 1);
  assert.equal(dev[0].lastPush.status, 'done');
  assert.ok(dev[0].lastFetch, 'the download is recorded');
  assert.equal(dev[0].upToDate, true);

  assert.equal((await d.unregister()).status, 200);
  const n = pushesTo(d.token).length;
  await credit(customer.id, 1);
  await sleep(1500);
  assert.equal(pushesTo(d.token).length, n, 'an unregistered device is not pushed');
  assert.equal((await d.list()).status, 204);
});

test('410 Unregistered removes the registration; the other device of the pass keeps being pushed', async () => {
  const { customer, pass } = await customerWithPass();
  const gone = device(pass);
  const kept = device(pass);
  assert.equal((await gone.register()).status, 201);
  assert.equal((await kept.register()).status, 201);
  apns.setMode('unregistered', { tokens: [gone.token] });
  try {
    await credit(customer.id, 10);
    await apns.waitFor(() => pushesTo(gone.token).some((p) => p.status === 410) && pushesTo(kept.token).some((p) => p.status === 200), 3000);
    await waitUntil(async () => (await owner.get(`/api/v1/customers/${customer.id}/wallet`)).body.apple.devices.length === 1, 3000);
  } finally {
    apns.setMode('ok');
  }
  assert.equal((await gone.list()).status, 204, 'the removed device holds nothing');
  const before = { gone: pushesTo(gone.token).length, kept: pushesTo(kept.token).length };
  await credit(customer.id, 10);
  await apns.waitFor(() => pushesTo(kept.token).length > before.kept, 2000);
  await sleep(300);
  assert.equal(pushesTo(gone.token).length, before.gone, 'the unregistered token is never pushed again');
});

test('APNs down for a while: the push is delivered once it is back, exactly once', async () => {
  const { customer, pass } = await customerWithPass();
  const d = device(pass);
  assert.equal((await d.register()).status, 201);
  await apns.stop();
  try {
    await credit(customer.id, 5);
    await sleep(1500); // at least one attempt fails on a refused connection
  } finally {
    apns = await startFakeApns(apnsOptions(apnsPort));
  }
  await apns.waitFor(() => pushesTo(d.token).some((p) => p.status === 200), 20000);
  await sleep(1000);
  assert.equal(pushesTo(d.token).filter((p) => p.status === 200).length, 1, 'delivered once');
  const report = await owner.get(`/api/v1/customers/${customer.id}/wallet`);
  assert.equal(report.body.apple.devices[0].lastPush.status, 'done');
});

test('loy killed in the middle of a push: after the restart the card is pushed, once', async () => {
  // A server of its own with a short APNs timeout, so that its outbox lease (a few rounds of it)
  // runs out within the test.
  const own = await startServer({ apple: { apnsUrl: apns.url }, env: { LOY_APNS_TIMEOUT: '1' } });
  try {
    const staff = await own.owner();
    const c = await createCustomer(staff);
    const got = await own.anon().get(new URL(c.walletLinks.apple).pathname);
    const { passJson: p } = await unpackPkpass(got.raw);
    const token = pushToken();
    const reg = await own.anon().post(`/passkit/v1/devices/${libraryId()}/registrations/${p.passTypeIdentifier}/${p.serialNumber}`, { pushToken: token }, { headers: { Authorization: `ApplePass ${p.authenticationToken}` } });
    assert.equal(reg.status, 201, reg.text);
    apns.setMode('stall', { tokens: [token] });
    const cr = await staff.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 3 });
    assert.equal(cr.status, 201, cr.text);
    await apns.waitFor(() => pushesTo(token).some((x) => x.stalled), 2000);
    await own.kill('SIGKILL');
    const mark = pushesTo(token).length;
    apns.setMode('ok'); // the stalled stream is answered to a dead client: not a delivery
    await own.restart();
    await apns.waitFor(() => pushesTo(token).slice(mark).some((x) => x.status === 200), 30000);
    await sleep(1500);
    assert.equal(pushesTo(token).slice(mark).filter((x) => x.status === 200).length, 1, 'pushed once after the restart');
    const report = await (await own.owner()).get(`/api/v1/customers/${c.id}/wallet`);
    assert.equal(report.body.apple.devices[0].lastPush.status, 'done');
  } finally {
    apns.setMode('ok');
    await own.stop();
  }
});

test('503 answers are retried with backoff until APNs takes the push', async () => {
  const { customer, pass } = await customerWithPass();
  const d = device(pass);
  assert.equal((await d.register()).status, 201);
  apns.setMode('unavailable', { count: 2, tokens: [d.token] });
  await credit(customer.id, 5);
  await apns.waitFor(() => pushesTo(d.token).some((p) => p.status === 200), 20000);
  const answers = pushesTo(d.token).map((p) => p.status);
  assert.deepEqual(answers, [503, 503, 200]);
  apns.setMode('ok');
});

test('blocking the customer voids the pass on the device', async () => {
  const { customer, pass } = await customerWithPass();
  const d = device(pass);
  assert.equal((await d.register()).status, 201);
  const n = pushesTo(d.token).length;
  const r = await owner.patch(`/api/v1/customers/${customer.id}`, { status: 'blocked' });
  assert.equal(r.status, 200, r.text);
  await apns.waitFor(() => pushesTo(d.token).length > n, 2000);
  const got = await d.fetch();
  assert.equal(got.status, 200);
  const { passJson } = await unpackPkpass(got.raw);
  assert.equal(passJson.voided, true);
});

test('a change of the default template pushes every pass once, and the passes show it', async () => {
  const cards = [];
  for (let i = 0; i < 3; i++) {
    const c = await customerWithPass();
    const d = device(c.pass);
    assert.equal((await d.register()).status, 201);
    cards.push({ ...c, d, before: pushesTo(d.token).length });
  }
  const list = await owner.get('/api/v1/templates');
  const design = { backgroundColor: '#123456', foregroundColor: '#fefefe', labelColor: '#abcdef' };
  const content = { organizationName: 'Кофейня', termsText: 'Баллы сгорают через год без покупок.' };
  const r = list.body.items.length
    ? await owner.patch(`/api/v1/templates/${list.body.items.find((t) => t.isDefault).id}`, { design, content })
    : await owner.post('/api/v1/templates', { name: 'Main', isDefault: true, design, content });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  for (const c of cards) await apns.waitFor(() => pushesTo(c.d.token).length > c.before, 5000);
  await sleep(500);
  for (const c of cards) {
    assert.equal(pushesTo(c.d.token).length, c.before + 1, 'one push per pass');
    const got = await c.d.fetch();
    const { passJson } = await unpackPkpass(got.raw);
    assert.equal(passJson.backgroundColor, 'rgb(18, 52, 86)');
    assert.equal(passJson.organizationName, 'Кофейня');
    assert.ok(passJson.storeCard.backFields.some((f) => f.value === content.termsText), 'the rules are on the back');
  }
});

test('an uploaded icon and a new location reach every pass through a push', async () => {
  const { customer, pass, files } = await customerWithPass();
  const d = device(pass);
  assert.equal((await d.register()).status, 201);
  const tpl = (await owner.get('/api/v1/templates')).body.items.find((t) => t.isDefault)
    ?? (await owner.post('/api/v1/templates', { name: 'Main', isDefault: true })).body;
  const icon = png(29, 29, { seed: 5 });
  assert.notDeepEqual(files['icon.png'], icon);
  let n = pushesTo(d.token).length;
  const up = await owner.put(`/api/v1/templates/${tpl.id}/images/icon`, icon, { contentType: 'image/png' });
  assert.equal(up.status, 200, up.text);
  await apns.waitFor(() => pushesTo(d.token).length > n, 5000);
  let got = await unpackPkpass((await d.fetch()).raw);
  assert.ok(got.files['icon.png'].equals(icon), 'the pass carries the uploaded icon');
  await verifyPkpass(got.files);

  n = pushesTo(d.token).length;
  const loc = await owner.post('/api/v1/locations', { name: 'Тверская', latitude: 55.765, longitude: 37.605, relevantText: 'Кофейня рядом' });
  assert.equal(loc.status, 201, loc.text);
  await apns.waitFor(() => pushesTo(d.token).length > n, 5000);
  got = await unpackPkpass((await d.fetch()).raw);
  assert.deepEqual(got.passJson.locations?.find((l) => l.relevantText === 'Кофейня рядом'), { latitude: 55.765, longitude: 37.605, relevantText: 'Кофейня рядом' });
  assert.equal(customer.id > 0, true);
});

test('an unchanged pass is served from its stored build, byte for byte', async () => {
  const { customer, raw } = await customerWithPass();
  const again = await download(new URL(customer.walletLinks.apple).pathname);
  assert.ok(raw.equals(again.raw), 'the same signed file (a rebuild would carry a new signing time)');
});

async function waitUntil(pred, ms) {
  const end = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await sleep(100);
  }
}
