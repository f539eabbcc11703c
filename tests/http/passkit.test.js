// The PassKit web service (Apple's "PassKit Web Service Reference", at webServiceURL =
// LOY_BASE_URL/passkit), the customer's download link /passes/<token>.pkpass and the customers'
// walletLinks (issue 3). A simulated device talks to the service as Wallet on an iPhone does (or an
// Android app sending `AndroidPass`); every refusal is checked for its status AND for changing
// nothing: the device's list of changed passes, the pass's device report and the device log read
// the same before and after.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { startServer, createCustomer, expectError, newPhone, unpackPkpass, appleCerts, APPLE_PASS_TYPE_ID, DB_KIND } from './harness.js';

const PKPASS = 'application/vnd.apple.pkpass';
const LINK = /^[A-Za-z0-9_-]{16,64}$/;
const hex = (n) => crypto.randomBytes(n).toString('hex');
const httpDate = (secs) => new Date(secs * 1000).toUTCString(); // IMF-fixdate

function rfc850(secs) {
  const d = new Date(secs * 1000);
  const day = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n) => String(n).padStart(2, '0');
  return `${day}, ${p(d.getUTCDate())}-${mon}-${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

function asctime(secs) {
  const d = new Date(secs * 1000);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n) => String(n).padStart(2, '0');
  return `${day} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

function sh(cmd, args) {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }));
  });
}

/** One number from the server's database: what no endpoint shows (log messages naming no pass). */
async function dbNumber(srv, sql) {
  const r = DB_KIND === 'postgres'
    ? await sh('psql', [srv.dbUrl, '-qAtc', sql])
    : await sh('sqlite3', [srv.dbUrl.replace(/^sqlite:/, ''), sql]);
  assert.equal(r.code, 0, `${sql}: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** Checks a .pkpass as Wallet would: every file in the manifest with its SHA-1 and the manifest's
 * detached PKCS#7 signature chaining to the development CA. Returns the unpacked pass. */
async function checkPkpass(buf) {
  const p = await unpackPkpass(buf);
  const names = Object.keys(p.files).sort();
  for (const f of ['pass.json', 'manifest.json', 'signature', 'icon.png']) assert.ok(names.includes(f), `${f} in ${names}`);
  const manifest = JSON.parse(p.files['manifest.json'].toString('utf8'));
  assert.deepEqual(Object.keys(manifest).sort(), names.filter((n) => n !== 'manifest.json' && n !== 'signature'));
  for (const [name, sha1] of Object.entries(manifest)) {
    assert.equal(crypto.createHash('sha1').update(p.files[name]).digest('hex'), sha1, `SHA-1 of ${name}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'loy-pkpass-'));
  try {
    writeFileSync(path.join(dir, 'signature'), p.files.signature);
    writeFileSync(path.join(dir, 'manifest.json'), p.files['manifest.json']);
    const ca = path.join(await appleCerts(), 'ca.pem');
    const v = await sh('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'signature'),
      '-content', path.join(dir, 'manifest.json'), '-CAfile', ca, '-purpose', 'any', '-out', '/dev/null']);
    assert.equal(v.code, 0, `openssl cms -verify: ${v.stderr}`);
    // A manifest that is not the signed one must not verify: the check above can fail.
    writeFileSync(path.join(dir, 'manifest.json'), `${p.files['manifest.json'].toString()} `);
    const bad = await sh('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(dir, 'signature'),
      '-content', path.join(dir, 'manifest.json'), '-CAfile', ca, '-purpose', 'any', '-out', '/dev/null']);
    assert.notEqual(bad.code, 0, 'a changed manifest verifies');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return p;
}

describe('Apple Wallet off', () => {
  let srv, owner;
  before(async () => {
    srv = await startServer();
    owner = await srv.owner();
  });
  after(async () => { await srv?.stop(); });

  test('customers carry walletLinks with a null Apple link', async () => {
    const r = await srv.anon().post('/api/v1/register', { name: 'Off', phone: newPhone(), consent: true });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.walletLinks, { apple: null, google: null });
    const c = await createCustomer(owner);
    assert.deepEqual(c.walletLinks, { apple: null, google: null });
    assert.deepEqual((await owner.get(`/api/v1/customers/${c.id}`)).body.walletLinks, { apple: null, google: null });
    const list = await owner.get('/api/v1/customers');
    assert.ok(list.body.items.length >= 2 && list.body.items.every((i) => i.walletLinks.apple === null));
  });

  test('every PassKit route and the download link are 404', async () => {
    const dev = srv.anon();
    const a = { headers: { Authorization: 'ApplePass 0123456789abcdef0123' } };
    const reg = `/passkit/v1/devices/${hex(16)}/registrations/${APPLE_PASS_TYPE_ID}/${hex(16)}`;
    expectError(await dev.post(reg, { pushToken: hex(32) }, a), 404, 'not_found');
    expectError(await dev.del(reg, a), 404, 'not_found');
    expectError(await dev.get(`/passkit/v1/devices/${hex(16)}/registrations/${APPLE_PASS_TYPE_ID}`), 404, 'not_found');
    expectError(await dev.get(`/passkit/v1/passes/${APPLE_PASS_TYPE_ID}/${hex(16)}`, a), 404, 'not_found');
    expectError(await dev.post('/passkit/v1/log', { logs: ['hello'] }), 404, 'not_found');
    expectError(await dev.get(`/passes/${'A'.repeat(32)}.pkpass`), 404, 'not_found');
  });
});

describe('Apple Wallet on', () => {
  let srv, owner, ptid;
  const A = {}; // the registered customer: id, link, serial, token, pass (unpacked)
  const B = {}; // a customer made by staff: another pass and token
  const dev = () => srv.anon();
  const auth = (token, scheme = 'ApplePass') => ({ headers: { Authorization: `${scheme} ${token}` } });
  const regPath = (lib, serial = A.serial, type = ptid) => `/passkit/v1/devices/${lib}/registrations/${type}/${serial}`;
  const listPath = (lib, type = ptid) => `/passkit/v1/devices/${lib}/registrations/${type}`;
  const passPath = (serial = A.serial, type = ptid) => `/passkit/v1/passes/${type}/${serial}`;

  /** What a device and the admin see of a pass: the device's list, the pass's devices, the log. */
  async function state(lib, who = A) {
    const l = await dev().get(listPath(lib));
    const w = await owner.get(`/api/v1/customers/${who.id}/wallet`);
    assert.equal(w.status, 200, w.text);
    const logs = await owner.get('/api/v1/wallet/apple/logs?limit=100');
    assert.equal(logs.status, 200, logs.text);
    // lastUpdated is left out: it trails the clock by a few seconds, so it moves by itself.
    return {
      list: { status: l.status, serialNumbers: l.body?.serialNumbers?.slice().sort() },
      devices: w.body.apple.devices.map((d) => ({ device: d.device, kind: d.kind, pushTokenUpdatedAt: d.pushTokenUpdatedAt })),
      logIds: logs.body.items.map((i) => i.id),
    };
  }

  /** The pass's version (its modified_at, ms) as the admin report shows it. */
  async function version(who = A) {
    const w = await owner.get(`/api/v1/customers/${who.id}/wallet`);
    assert.equal(w.status, 200, w.text);
    return Date.parse(w.body.apple.version);
  }

  async function download(link) {
    const r = await dev().get(new URL(link).pathname, { headers: { Accept: PKPASS } });
    assert.equal(r.status, 200, r.text);
    return r;
  }

  before(async () => {
    srv = await startServer({ apple: true });
    owner = await srv.owner();
    const r = await srv.anon().post('/api/v1/register', { name: 'Wallet Customer', phone: newPhone(), consent: true });
    assert.equal(r.status, 201, r.text);
    A.id = r.body.id;
    A.link = r.body.walletLinks.apple;
    const b = await createCustomer(owner);
    B.id = b.id;
    B.link = b.walletLinks.apple;
    for (const x of [A, B]) {
      assert.ok(x.link, 'the customer carries its Apple Wallet link');
      x.pass = await unpackPkpass((await download(x.link)).raw);
      x.serial = x.pass.passJson.serialNumber;
      x.token = x.pass.passJson.authenticationToken;
    }
    ptid = A.pass.passJson.passTypeIdentifier;
  });
  after(async () => { await srv?.stop(); });

  describe('walletLinks', () => {
    test('registration, staff creation, get, list and patch show the same download link', async () => {
      const base = `${srv.url}/passes/`;
      for (const x of [A, B]) {
        assert.ok(x.link.startsWith(base) && x.link.endsWith('.pkpass'), x.link);
        assert.match(x.link.slice(base.length, -'.pkpass'.length), LINK);
      }
      assert.notEqual(A.link, B.link);
      assert.equal((await owner.get(`/api/v1/customers/${A.id}`)).body.walletLinks.apple, A.link);
      const list = await owner.get('/api/v1/customers');
      const byId = Object.fromEntries(list.body.items.map((i) => [i.id, i.walletLinks.apple]));
      assert.equal(byId[A.id], A.link);
      assert.equal(byId[B.id], B.link);
      const p = await owner.patch(`/api/v1/customers/${B.id}`, { notes: 'vip' });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.body.walletLinks.apple, B.link);
      // The link is not the serial number or the authentication token.
      assert.ok(!A.link.includes(A.serial) && !A.link.includes(A.token));
    });
  });

  describe('GET /passes/{token}.pkpass', () => {
    test('serves the signed pass as an attachment, never cached, that verifies against the CA', async () => {
      const r = await download(A.link);
      assert.equal(r.headers['content-type'], PKPASS);
      assert.equal(r.headers['content-disposition'], 'attachment; filename="card.pkpass"');
      assert.match(r.headers['cache-control'], /no-store/);
      const p = await checkPkpass(r.raw);
      const pj = p.passJson;
      assert.equal(pj.passTypeIdentifier, APPLE_PASS_TYPE_ID);
      assert.equal(pj.webServiceURL, `${srv.url}/passkit`);
      assert.match(pj.serialNumber, /^[A-Za-z0-9._-]{1,64}$/);
      assert.ok(pj.authenticationToken.length >= 16);
      assert.equal(pj.serialNumber, A.serial);
      assert.equal(pj.authenticationToken, A.token);
      assert.notEqual(B.serial, A.serial);
      assert.notEqual(B.token, A.token);
    });

    test('unknown, malformed and hostile links are 404', async () => {
      const good = new URL(A.link).pathname.slice('/passes/'.length, -'.pkpass'.length);
      const other = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
      for (const seg of [`${other}.pkpass`, `${good}.zip`, good, `${good}.pkpass.pkpass`, `${good.slice(0, 15)}.pkpass`,
        `${'A'.repeat(65)}.pkpass`, `${good.slice(0, -1)}!.pkpass`, `${good}%00.pkpass`, '...pkpass', '%2E%2E.pkpass',
        `${good.slice(0, -1)}%C3%A9.pkpass`, `${good.toLowerCase() === good ? good.toUpperCase() : good.toLowerCase()}.pkpass`]) {
        expectError(await dev().get(`/passes/${seg}`), 404, 'not_found');
      }
      expectError(await dev().get(`/passes/..%2F${good}.pkpass`), 404, 'not_found');
      const r = await dev().post(`/passes/${good}.pkpass`, {});
      expectError(r, 405, 'method_not_allowed');
      assert.equal(r.headers.allow, 'GET');
    });
  });

  describe('registering a device', () => {
    test('201 the first time, 200 after (the push token is updated), for Apple and Android devices', async () => {
      const lib = hex(16);
      const before = await state(lib);
      assert.equal(before.list.status, 204);
      const r1 = await dev().post(regPath(lib), { pushToken: hex(32) }, auth(A.token));
      assert.equal(r1.status, 201, r1.text);
      assert.equal(r1.text, '');
      const s1 = await state(lib);
      assert.equal(s1.list.status, 200);
      assert.deepEqual(s1.list.serialNumbers, [A.serial]);
      assert.equal(s1.devices.length, before.devices.length + 1);
      const mine = s1.devices.find((d) => !before.devices.some((b) => b.device === d.device));
      assert.equal(mine.kind, 'apple');
      const r2 = await dev().post(regPath(lib), { pushToken: hex(32).toUpperCase() }, auth(A.token));
      assert.equal(r2.status, 200, r2.text);
      const s2 = await state(lib);
      assert.equal(s2.devices.length, s1.devices.length);
      assert.ok(Date.parse(s2.devices.find((d) => d.device === mine.device).pushTokenUpdatedAt) >= Date.parse(mine.pushTokenUpdatedAt));
      // An Android app reading .pkpass files: AndroidPass, its own kind of push token.
      const droid = hex(16);
      const r3 = await dev().post(regPath(droid), { pushToken: `fcm:${crypto.randomBytes(90).toString('base64url')}` }, auth(A.token, 'AndroidPass'));
      assert.equal(r3.status, 201, r3.text);
      assert.equal((await state(droid)).devices.find((d) => !s2.devices.some((b) => b.device === d.device)).kind, 'android');
      // A device may register a second pass; it lists both.
      const r4 = await dev().post(regPath(lib, B.serial), { pushToken: hex(32) }, auth(B.token));
      assert.equal(r4.status, 201, r4.text);
      assert.deepEqual((await dev().get(listPath(lib))).body.serialNumbers.sort(), [A.serial, B.serial].sort());
    });

    test('a missing, malformed or wrong Authorization, an unknown serial and another pass type are 401 and change nothing', async () => {
      const lib = hex(16);
      const body = { pushToken: hex(32) };
      const s0 = await state(lib);
      const cases = [
        [regPath(lib), {}],
        [regPath(lib), auth('')],
        [regPath(lib), auth(A.token.slice(0, -1))],
        [regPath(lib), auth(`${A.token}x`)],
        [regPath(lib), auth(B.token)], // another pass's token
        [regPath(lib), auth(A.token, 'Bearer')],
        [regPath(lib), auth(A.token, 'Basic')],
        [regPath(lib), { headers: { Authorization: `ApplePass${A.token}` } }],
        [regPath(lib), { headers: { Authorization: A.token } }],
        [regPath(lib, hex(16)), auth(A.token)], // unknown serial
        [regPath(lib, B.serial), auth(A.token)],
        [regPath(lib, A.serial, 'pass.com.example.other'), auth(A.token)], // another pass type
        [regPath(lib, A.serial, `${ptid}x`), auth(A.token)],
      ];
      for (const [p, opts] of cases) {
        const r = await dev().post(p, body, opts);
        expectError(r, 401, 'unauthorized');
      }
      // The same answer for an unknown serial as for a wrong token: nothing tells a serial exists.
      const unknown = await dev().post(regPath(lib, hex(16)), body, auth(A.token));
      const wrong = await dev().post(regPath(lib), body, auth(B.token));
      assert.deepEqual(unknown.body, wrong.body);
      assert.deepEqual(await state(lib), s0);
    });

    test('a malformed push token or body is 400, the wrong content type 415, an oversized body 413; nothing changes', async () => {
      const lib = hex(16);
      const s0 = await state(lib);
      const bad = [
        { pushToken: hex(32).slice(1) },
        { pushToken: `${hex(32)}0` },
        { pushToken: `${hex(31)}zz` },
        { pushToken: '' },
        { pushToken: 12345 },
        { pushToken: null },
        { pushToken: [hex(32)] },
        { pushToken: `fcm:${hex(20)}` }, // an Android token from an Apple device
        {},
        { token: hex(32) },
      ];
      for (const b of bad) expectError(await dev().post(regPath(lib), b, auth(A.token)), 400, 'validation_failed', 'pushToken');
      const droid = [{ pushToken: 'a b' }, { pushToken: 'x'.repeat(4097) }, { pushToken: 'токен' }, { pushToken: 'a/b' }];
      for (const b of droid) expectError(await dev().post(regPath(lib), b, auth(A.token, 'AndroidPass')), 400, 'validation_failed', 'pushToken');
      expectError(await dev().post(regPath(lib), '{"pushToken":', auth(A.token)), 400, 'malformed_json');
      expectError(await dev().post(regPath(lib), [hex(32)], auth(A.token)), 400, 'malformed_json');
      expectError(await dev().post(regPath(lib), '', auth(A.token)), 400, 'malformed_json');
      expectError(await dev().post(regPath(lib), `pushToken=${hex(32)}`, { ...auth(A.token), contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
      expectError(await dev().post(regPath(lib), JSON.stringify({ pushToken: hex(32) }), { ...auth(A.token), contentType: null }), 415, 'unsupported_media_type');
      // 8 KiB is the cap: an Android token of 4 096 characters fits, a body of 8 193 bytes does not.
      const pad = (n) => `{"pushToken":"${hex(32)}","pad":"${'x'.repeat(n - 89)}"}`;
      const exact = pad(8192);
      assert.equal(Buffer.byteLength(exact), 8192);
      expectError(await dev().post(regPath(lib), pad(8193), auth(A.token)), 413, 'payload_too_large');
      expectError(await dev().post(regPath(lib), pad(8193), { ...auth(A.token), chunked: true }), 413, 'payload_too_large');
      assert.deepEqual(await state(lib), s0);
      const ok = await dev().post(regPath(lib), exact, auth(A.token));
      assert.equal(ok.status, 201, `a body of exactly 8 KiB is taken: ${ok.text}`);
      const droidLib = hex(16);
      const long = await dev().post(regPath(droidLib), { pushToken: 'x'.repeat(4096) }, auth(A.token, 'AndroidPass'));
      assert.equal(long.status, 201, long.text);
    });

    test('hostile or oversized identifiers are 400 (never a store call); %2F makes another path', async () => {
      const lib = hex(16);
      const body = { pushToken: hex(32) };
      const s0 = await state(lib);
      const badLib = ['..', '.', '%2E%2E', '.hidden', 'a%00b', '%00', 'd%C3%A9v', 'a%20b', 'a+b', 'a%25b', 'a:b', 'x'.repeat(129)];
      for (const l of badLib) {
        expectError(await dev().post(regPath(l), body, auth(A.token)), 400, 'validation_failed', 'deviceLibraryIdentifier');
        expectError(await dev().del(regPath(l), auth(A.token)), 400, 'validation_failed', 'deviceLibraryIdentifier');
        expectError(await dev().get(listPath(l)), 400, 'validation_failed', 'deviceLibraryIdentifier');
      }
      for (const s of ['..', '%2E%2E', 'a%00', 's%C3%A9rial', 'x'.repeat(65)]) {
        expectError(await dev().post(regPath(lib, s), body, auth(A.token)), 400, 'validation_failed', 'serialNumber');
        expectError(await dev().get(passPath(s), auth(A.token)), 400, 'validation_failed', 'serialNumber');
      }
      for (const t of ['..', '%00', 'p%C3%A4ss', 'x'.repeat(256)]) {
        expectError(await dev().post(regPath(lib, A.serial, t), body, auth(A.token)), 400, 'validation_failed', 'passTypeIdentifier');
        expectError(await dev().get(passPath(A.serial, t), auth(A.token)), 400, 'validation_failed', 'passTypeIdentifier');
        expectError(await dev().get(listPath(lib, t)), 400, 'validation_failed', 'passTypeIdentifier');
      }
      // At the limits: 64 characters of serial is an (unknown) serial, 255 of pass type another type.
      expectError(await dev().post(regPath(lib, 'x'.repeat(64)), body, auth(A.token)), 401, 'unauthorized');
      expectError(await dev().post(regPath(lib, A.serial, 'x'.repeat(255)), body, auth(A.token)), 401, 'unauthorized');
      // An encoded slash splits the segment: the path is another one, which does not exist.
      expectError(await dev().post(regPath(`..%2F..%2F${lib}`), body, auth(A.token)), 404, 'not_found');
      expectError(await dev().post(regPath(lib, `${A.serial}%2F..`), body, auth(A.token)), 404, 'not_found');
      assert.deepEqual(await state(lib), s0);
      // 128 characters of library id is one.
      const long = 'L'.repeat(128);
      const r = await dev().post(regPath(long), body, auth(A.token));
      assert.equal(r.status, 201, r.text);
      assert.deepEqual((await dev().get(listPath(long))).body.serialNumbers, [A.serial]);
    });

    test('other methods are 405 with Allow', async () => {
      const lib = hex(16);
      const r = await dev().put(regPath(lib), { pushToken: hex(32) }, auth(A.token));
      expectError(r, 405, 'method_not_allowed');
      assert.equal(r.headers.allow, 'POST, DELETE');
      const g = await dev().get(regPath(lib), auth(A.token));
      expectError(g, 405, 'method_not_allowed');
      const l = await dev().post(listPath(lib), {});
      expectError(l, 405, 'method_not_allowed');
      assert.equal(l.headers.allow, 'GET');
      expectError(await dev().del(passPath(), auth(A.token)), 405, 'method_not_allowed');
      const lg = await dev().get('/passkit/v1/log');
      expectError(lg, 405, 'method_not_allowed');
      assert.equal(lg.headers.allow, 'POST');
      assert.equal((await dev().get(listPath(lib))).status, 204);
    });
  });

  describe('listing changed passes', () => {
    test('all without a tag, 204 since the pass\'s version, lastUpdated a string; recorded as the device\'s listing', async () => {
      const lib = hex(16);
      assert.equal((await dev().post(regPath(lib), { pushToken: hex(32) }, auth(A.token))).status, 201);
      const v = await version();
      const all = await dev().get(listPath(lib));
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(all.body.serialNumbers, [A.serial]);
      assert.equal(typeof all.body.lastUpdated, 'string');
      assert.match(all.body.lastUpdated, /^[0-9]{1,18}$/);
      // The tag never runs ahead of the version (it may trail it: a change committing around the
      // listing is then listed again, never missed).
      assert.ok(Number(all.body.lastUpdated) <= v, `${all.body.lastUpdated} > ${v}`);
      assert.deepEqual((await dev().get(`${listPath(lib)}?passesUpdatedSince=`)).body.serialNumbers, [A.serial]);
      const since = await dev().get(`${listPath(lib)}?passesUpdatedSince=${v}`);
      assert.equal(since.status, 204);
      assert.equal(since.text, '');
      const older = await dev().get(`${listPath(lib)}?passesUpdatedSince=${v - 1}`);
      assert.equal(older.status, 200, older.text);
      assert.deepEqual(older.body.serialNumbers, [A.serial]);
      assert.ok(Number(older.body.lastUpdated) >= v - 1, 'the tag is never older than the one sent');
      // The admin report shows the listing and the tag it carried.
      const w = await owner.get(`/api/v1/customers/${A.id}/wallet`);
      const listed = w.body.apple.devices.map((d) => d.lastListed).filter(Boolean);
      assert.ok(listed.some((l) => Date.parse(l.since) === v - 1), JSON.stringify(w.body.apple.devices));
      // Unknown devices and other pass types have nothing.
      assert.equal((await dev().get(listPath(hex(16)))).status, 204);
      assert.equal((await dev().get(listPath(lib, 'pass.com.example.other'))).status, 204);
    });

    test('a tag this service did not give is 400 and changes nothing', async () => {
      const lib = hex(16);
      assert.equal((await dev().post(regPath(lib), { pushToken: hex(32) }, auth(A.token))).status, 201);
      const s0 = await state(lib);
      // A day ahead of the clock is not a tag this service gives (they trail it).
      const ahead = String(Date.now() + 25 * 3600 * 1000);
      for (const tag of ['abc', '-1', '1.5', '1e3', '+5', '%205', '0x10', '1234567890123456789', '123456789012345678', ahead, '%00', '12%0034', '%C3%A9']) {
        expectError(await dev().get(`${listPath(lib)}?passesUpdatedSince=${tag}`), 400, 'validation_failed', 'passesUpdatedSince');
      }
      assert.deepEqual(await state(lib), s0);
      assert.equal((await dev().get(`${listPath(lib)}?passesUpdatedSince=${Date.now() + 3600 * 1000}`)).status, 204);
    });
  });

  describe('getting the latest pass', () => {
    test('200 with Last-Modified = the tag, no-cache; If-Modified-Since in any HTTP-date form gives 304', async () => {
      const lib = hex(16);
      assert.equal((await dev().post(regPath(lib), { pushToken: hex(32) }, auth(A.token))).status, 201);
      const tag = await version();
      const r = await dev().get(passPath(), auth(A.token));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['content-type'], PKPASS);
      assert.equal(r.headers['cache-control'], 'no-cache', 'revalidated, not no-store');
      assert.equal(r.headers['last-modified'], httpDate(tag / 1000));
      const p = await checkPkpass(r.raw);
      assert.equal(p.passJson.serialNumber, A.serial);
      assert.equal(p.passJson.authenticationToken, A.token);
      const w = await owner.get(`/api/v1/customers/${A.id}/wallet`);
      assert.ok(w.body.apple.devices.some((d) => d.lastFetch && Date.parse(d.lastFetch.version) === tag), JSON.stringify(w.body.apple.devices));

      const secs = tag / 1000;
      for (const ims of [httpDate(secs), httpDate(secs + 3600), rfc850(secs), asctime(secs)]) {
        const n = await dev().get(passPath(), { headers: { ...auth(A.token).headers, 'If-Modified-Since': ims } });
        assert.equal(n.status, 304, `If-Modified-Since: ${ims}`);
        assert.equal(n.raw.length, 0);
        assert.equal(n.headers['last-modified'], httpDate(secs));
      }
      for (const ims of [httpDate(secs - 1), rfc850(secs - 1), asctime(secs - 1), 'yesterday', `${httpDate(secs)} x`,
        httpDate(secs).replace('GMT', 'UTC'), httpDate(secs).toLowerCase(), 'Fri, 31 Feb 2026 10:00:00 GMT', '']) {
        const f = await dev().get(passPath(), { headers: { ...auth(A.token).headers, 'If-Modified-Since': ims } });
        assert.equal(f.status, 200, `If-Modified-Since: ${JSON.stringify(ims)}`);
        assert.equal(f.headers['content-type'], PKPASS);
      }
      // An Android app authorises with AndroidPass and the same token.
      assert.equal((await dev().get(passPath(), auth(A.token, 'AndroidPass'))).status, 200);
    });

    test('a missing or wrong token, an unknown serial and another pass type are 401', async () => {
      for (const [p, opts] of [
        [passPath(), {}],
        [passPath(), auth(B.token)],
        [passPath(), auth(A.token.toUpperCase() === A.token ? A.token.toLowerCase() : A.token.toUpperCase())],
        [passPath(), auth(A.token, 'Bearer')],
        [passPath(hex(16)), auth(A.token)],
        [passPath(B.serial), auth(A.token)],
        [passPath(A.serial, 'pass.com.example.other'), auth(A.token)],
      ]) {
        const r = await dev().get(p, opts);
        expectError(r, 401, 'unauthorized');
        assert.notEqual(r.headers['content-type'], PKPASS);
      }
    });
  });

  describe('unregistering', () => {
    test('200, then the device lists nothing; 200 again when already gone; 401 for a wrong token', async () => {
      const lib = hex(16);
      assert.equal((await dev().post(regPath(lib), { pushToken: hex(32) }, auth(A.token))).status, 201);
      const s0 = await state(lib);
      for (const opts of [{}, auth(B.token), auth(A.token, 'Bearer')]) expectError(await dev().del(regPath(lib), opts), 401, 'unauthorized');
      expectError(await dev().del(regPath(lib, hex(16)), auth(A.token)), 401, 'unauthorized');
      expectError(await dev().del(regPath(lib, A.serial, 'pass.com.example.other'), auth(A.token)), 401, 'unauthorized');
      assert.deepEqual(await state(lib), s0);
      const r = await dev().del(regPath(lib), auth(A.token));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, '');
      const s1 = await state(lib);
      assert.equal(s1.list.status, 204);
      assert.equal(s1.devices.length, s0.devices.length - 1);
      const again = await dev().del(regPath(lib), auth(A.token));
      assert.equal(again.status, 200, again.text);
      assert.deepEqual(await state(lib), s1);
      // Registering again works as the first time.
      assert.equal((await dev().post(regPath(lib), { pushToken: hex(32) }, auth(A.token))).status, 201);
    });
  });

  describe('the log endpoint', () => {
    const logs = async (serial) => (await owner.get(`/api/v1/wallet/apple/logs?limit=100${serial ? `&serial=${serial}` : ''}`)).body.items;
    const kept = (like) => dbNumber(srv, `SELECT COUNT(*) FROM apple_pass_log WHERE message LIKE '%${like}%'`);
    const keptFor = (like, serial) => dbNumber(srv, `SELECT COUNT(*) FROM apple_pass_log WHERE message LIKE '%${like}%' AND ${serial ? `serial = '${serial}'` : 'serial IS NULL'}`);

    test('keeps every message, with its pass when it names one of ours', async () => {
      const stamp = hex(4);
      const named = `[${stamp}] Register task (for device ${hex(16)}, pass type ${ptid}, serial number ${A.serial}, with web service url ${srv.url}/passkit) encountered error: Authentication failure`;
      const unregistered = `[${stamp}] Web service error for ${ptid} (${srv.url}/passkit): Update requested for unregistered serial number ${B.serial}.`;
      const unknown = `[${stamp}] Update requested for unregistered serial number ${hex(16)}`;
      const plain = `[${stamp}] Server ignored the 'if-modified-since' header and returned the full unchanged pass data`;
      const r = await dev().post('/passkit/v1/log', { logs: [named, unregistered, unknown, plain], extra: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, '');
      assert.equal(await kept(stamp), 4);
      assert.equal(await keptFor(stamp, null), 2, 'the unknown serial and the plain message belong to no pass');
      assert.deepEqual((await logs(A.serial)).filter((i) => i.message.includes(stamp)).map((i) => i.message), [named]);
      assert.deepEqual((await logs(B.serial)).filter((i) => i.message.includes(stamp)).map((i) => i.message), [unregistered]);
      assert.ok((await logs()).every((i) => i.message !== unknown && i.message !== plain), 'no business sees what names none of its passes');
    });

    test('keeps the first 100 messages of 2 000 characters at most', async () => {
      const stamp = hex(4);
      const many = Array.from({ length: 101 }, (_, i) => `[${stamp}] serial number ${A.serial} message ${i}.`);
      assert.equal((await dev().post('/passkit/v1/log', { logs: many })).status, 200);
      assert.equal(await keptFor(stamp, A.serial), 100);
      assert.equal(await kept(`[${stamp}] serial number ${A.serial} message 100.`), 0);
      assert.equal(await kept(`[${stamp}] serial number ${A.serial} message 99.`), 1);
      const long = `[${stamp}] serial number ${A.serial} ${'я'.repeat(2100)}`;
      assert.equal((await dev().post('/passkit/v1/log', { logs: [long, ''] })).status, 200);
      const got = (await logs(A.serial)).find((i) => i.message.startsWith(`[${stamp}] serial number ${A.serial} я`));
      assert.equal([...got.message].length, 2000);
      assert.equal(got.message, [...long].slice(0, 2000).join(''));
      assert.equal(await kept(stamp), 101, 'an empty message is not kept');
    });

    test('malformed bodies are 400, other types 415, over 64 KiB 413; nothing is kept', async () => {
      const before = await dbNumber(srv, 'SELECT COUNT(*) FROM apple_pass_log');
      expectError(await dev().post('/passkit/v1/log', { logs: 'one' }), 400, 'validation_failed', 'logs');
      expectError(await dev().post('/passkit/v1/log', {}), 400, 'validation_failed', 'logs');
      expectError(await dev().post('/passkit/v1/log', { logs: ['fine', 5] }), 400, 'validation_failed', 'logs');
      expectError(await dev().post('/passkit/v1/log', { logs: ['fine', null] }), 400, 'validation_failed', 'logs');
      expectError(await dev().post('/passkit/v1/log', ['a']), 400, 'malformed_json');
      expectError(await dev().post('/passkit/v1/log', '{"logs":["a"'), 400, 'malformed_json');
      expectError(await dev().post('/passkit/v1/log', '{"logs":["a\\u0000b"]}'), 400, 'malformed_json');
      expectError(await dev().post('/passkit/v1/log', 'logs=a', { contentType: 'text/plain' }), 415, 'unsupported_media_type');
      const big = JSON.stringify({ logs: ['x'.repeat(65536)] });
      expectError(await dev().post('/passkit/v1/log', big), 413, 'payload_too_large');
      assert.equal(await dbNumber(srv, 'SELECT COUNT(*) FROM apple_pass_log'), before);
      // 64 KiB exactly is taken.
      const stamp = hex(4);
      const head = `{"logs":["[${stamp}] `;
      const exact = `${head}${'x'.repeat(65536 - head.length - 3)}"]}`;
      assert.equal(Buffer.byteLength(exact), 65536);
      assert.equal((await dev().post('/passkit/v1/log', exact)).status, 200);
      assert.equal(await kept(stamp), 1);
    });
  });

  describe('with PostgreSQL or SQLite alike: a serial is global', () => {
    test('two devices, two passes, each device lists only its own', async () => {
      const l1 = hex(16);
      const l2 = hex(16);
      assert.equal((await dev().post(regPath(l1), { pushToken: hex(32) }, auth(A.token))).status, 201);
      assert.equal((await dev().post(regPath(l2, B.serial), { pushToken: hex(32) }, auth(B.token))).status, 201);
      assert.deepEqual((await dev().get(listPath(l1))).body.serialNumbers, [A.serial]);
      assert.deepEqual((await dev().get(listPath(l2))).body.serialNumbers, [B.serial]);
      assert.equal((await dev().del(regPath(l2, B.serial), auth(B.token))).status, 200);
      assert.equal((await dev().get(listPath(l2))).status, 204);
      assert.deepEqual((await dev().get(listPath(l1))).body.serialNumbers, [A.serial]);
    });
  });

  // Last: it spends this client address's log allowance.
  describe('rate limits', () => {
    test('the log endpoint takes 120 requests a minute from one address, then 429 with Retry-After', async () => {
      const stamp = hex(4);
      let limited = null;
      let n = 0;
      for (; n < 130 && !limited; n++) {
        const r = await dev().post('/passkit/v1/log', { logs: [`[${stamp}] ${n}`] });
        if (r.status === 429) limited = r;
        else assert.equal(r.status, 200, r.text);
      }
      assert.ok(limited, 'never limited');
      expectError(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      assert.ok(n >= 100 && n <= 122, `limited after ${n} requests`);
      assert.equal(await dbNumber(srv, `SELECT COUNT(*) FROM apple_pass_log WHERE message = '[${stamp}] ${n - 1}'`), 0, 'the refused message was kept');
      assert.equal(await dbNumber(srv, `SELECT COUNT(*) FROM apple_pass_log WHERE message LIKE '[${stamp}] %'`), n - 1);
    });

    test('more than 30 unknown download links a minute from one address are 429; known links still work', async () => {
      let limited = null;
      for (let i = 0; i < 40 && !limited; i++) {
        const r = await dev().get(`/passes/${crypto.randomBytes(24).toString('base64url')}.pkpass`);
        if (r.status === 429) limited = r;
        else expectError(r, 404, 'not_found');
      }
      assert.ok(limited, 'never limited');
      expectError(limited, 429, 'rate_limited');
      assert.equal((await download(A.link)).status, 200);
    });
  });
});
