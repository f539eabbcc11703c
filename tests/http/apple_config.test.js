// Apple Wallet set-up: a business with its own Pass Type ID certificate (LOY_APPLE_CERTS_DIR/<slug>/)
// beside the install's default one — its passes carry its pass type and team, are signed by its
// certificate and pushed over its own APNs connection — and bad set-ups that stop `loy serve` with a
// clear reason instead of issuing passes no iPhone takes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LoyServer, LOY_BIN, appleCerts, unpackPkpass, createCustomer, APPLE_PASS_TYPE_ID } from './harness.js';
import { startFakeApns } from '../fakes/apns.js';

const OTHER_TYPE = 'pass.dev.loy.other';
const OTHER_TEAM = 'OTHERTEAM1';
let srv, apns, certs, dir, other;

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME || '/tmp', ...env }, timeout: 20000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

before(async () => {
  certs = await appleCerts();
  dir = mkdtempSync(path.join(tmpdir(), 'loy-apple-dir-'));
  other = path.join(dir, 'other');
  const made = await run(LOY_BIN, ['certs', 'dev', '--out', other, '--pass-type-id', OTHER_TYPE, '--team-id', OTHER_TEAM, '--org', 'Other Shop']);
  assert.equal(made.code, 0, made.stderr);
  // The fake APNs trusts both development roots, as Apple trusts every developer's certificate.
  const bundle = path.join(dir, 'roots.pem');
  writeFileSync(bundle, readFileSync(path.join(certs, 'ca.pem'), 'utf8') + readFileSync(path.join(other, 'ca.pem'), 'utf8'));
  apns = await startFakeApns({ caFile: bundle, certFile: path.join(certs, 'localhost.pem'), keyFile: path.join(certs, 'localhost.key') });
  srv = new LoyServer({ apple: { apnsUrl: apns.url }, env: { LOY_APPLE_CERTS_DIR: dir } });
  await srv.init();
  await srv.cliOk(['business', 'add', '--name', 'Other Shop', '--slug', 'other']);
  await srv.start();
});
after(async () => {
  await srv?.stop();
  await apns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function verifies(files, caFile) {
  const d = mkdtempSync(path.join(tmpdir(), 'pkpass-'));
  try {
    writeFileSync(path.join(d, 'manifest.json'), files['manifest.json']);
    writeFileSync(path.join(d, 'signature'), files.signature);
    const r = await run('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', path.join(d, 'signature'), '-content', path.join(d, 'manifest.json'), '-CAfile', caFile, '-purpose', 'any', '-out', '/dev/null']);
    return r.code === 0;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

async function otherBusinessClient() {
  const key = await srv.cliOk(['apikey', 'create', '--name', 'other till', '--role', 'cashier', '--business', 'other']);
  const c = srv.anon();
  await c.useApiKey(key.split('\n').pop().trim());
  return c;
}

test('a business with its own certificate issues passes of its own pass type, signed and pushed with it', async () => {
  const till = await otherBusinessClient();
  const customer = await createCustomer(till, { name: 'Другой' });
  assert.ok(customer.walletLinks.apple, customer.walletLinks);
  const got = await srv.anon().get(new URL(customer.walletLinks.apple).pathname);
  assert.equal(got.status, 200);
  const { files, passJson } = await unpackPkpass(got.raw);
  assert.equal(passJson.passTypeIdentifier, OTHER_TYPE);
  assert.equal(passJson.teamIdentifier, OTHER_TEAM);
  assert.ok(await verifies(files, path.join(other, 'ca.pem')), 'signed by the business certificate');
  assert.ok(!(await verifies(files, path.join(certs, 'ca.pem'))), 'not by the install certificate');

  const token = crypto.randomBytes(32).toString('hex');
  const lib = crypto.randomBytes(16).toString('hex');
  const reg = await srv.anon().post(`/passkit/v1/devices/${lib}/registrations/${OTHER_TYPE}/${passJson.serialNumber}`, { pushToken: token }, { headers: { Authorization: `ApplePass ${passJson.authenticationToken}` } });
  assert.equal(reg.status, 201, reg.text);
  const wrongType = await srv.anon().post(`/passkit/v1/devices/${lib}/registrations/${APPLE_PASS_TYPE_ID}/${passJson.serialNumber}`, { pushToken: token }, { headers: { Authorization: `ApplePass ${passJson.authenticationToken}` } });
  assert.equal(wrongType.status, 401, 'the pass is not of the install pass type');

  const cr = await till.post(`/api/v1/customers/${customer.id}/transactions`, { type: 'credit', amount: 7 });
  assert.equal(cr.status, 201, cr.text);
  const push = await apns.waitFor((ps) => ps.find((p) => p.token === token && p.status != null), 2000);
  assert.equal(push.status, 200);
  assert.equal(push.topic, OTHER_TYPE, 'apns-topic is the business pass type');
  assert.equal(push.subject.UID, OTHER_TYPE, 'the TLS client certificate is the business one');

  const status = await till.get('/api/v1/wallet/status');
  assert.equal(status.status, 403, 'cashiers do not see the set-up');
});

test('the default business keeps the install certificate', async () => {
  const owner = await srv.owner();
  const customer = await createCustomer(owner);
  const got = await srv.anon().get(new URL(customer.walletLinks.apple).pathname);
  const { files, passJson } = await unpackPkpass(got.raw);
  assert.equal(passJson.passTypeIdentifier, APPLE_PASS_TYPE_ID);
  assert.ok(await verifies(files, path.join(certs, 'ca.pem')));
  const status = await owner.get('/api/v1/wallet/status');
  assert.equal(status.status, 200, status.text);
  assert.equal(status.body.apple.enabled, true);
  assert.equal(status.body.apple.passTypeIdentifier, APPLE_PASS_TYPE_ID);
});

/** `loy serve` with these settings on a fresh SQLite database: exit code and stderr. */
async function serveWith(env) {
  const d = mkdtempSync(path.join(tmpdir(), 'loy-bad-'));
  try {
    return await run(LOY_BIN, ['serve'], {
      LOY_LISTEN: '127.0.0.1:0',
      LOY_DATABASE_URL: `sqlite:${path.join(d, 'loy.db')}`,
      LOY_PASS_CACHE_DIR: path.join(d, 'passes'),
      LOY_APNS_URL: 'https://127.0.0.1:1',
      ...env,
    });
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

test('bad Apple set-ups stop loy serve with the reason', async () => {
  const good = { LOY_APPLE_PASS_CERT: path.join(certs, 'pass.pem'), LOY_APPLE_PASS_KEY: path.join(certs, 'pass.key'), LOY_APPLE_WWDR_CERT: path.join(certs, 'wwdr.pem') };
  const cases = [
    [{ ...good, LOY_APPLE_PASS_CERT: path.join(certs, 'missing.pem') }, /missing\.pem|cannot|unreadable|open/i],
    [{ ...good, LOY_APPLE_PASS_KEY: path.join(other, 'pass.key') }, /key|match/i],
    [{ ...good, LOY_APPLE_WWDR_CERT: path.join(other, 'wwdr.pem') }, /WWDR|issue/i],
    [{ ...good, LOY_APPLE_WWDR_CERT: '' }, /WWDR/],
    [{ ...good, LOY_APPLE_PASS_KEY: '' }, /key/i],
    [{ ...good, LOY_APPLE_PASS_TYPE_ID: 'pass.com.example.other' }, /pass type identifier is set to pass\.com\.example\.other but the certificate is for pass\.dev\.loy\.demo/],
    [{ ...good, LOY_APPLE_TEAM_ID: 'ZZZ' }, /team identifier is set to ZZZ but the certificate is of team LOYDEV0001/],
    [{ ...good, LOY_APPLE_CERTS_DIR: path.join(dir, 'nope') }, /LOY_APPLE_CERTS_DIR/],
    [{ ...good, LOY_APPLE_CERTS_DIR: dir }, /no business has the slug other/],
  ];
  for (const [env, re] of cases) {
    const r = await serveWith(env);
    assert.equal(r.code, 1, `expected exit 1 for ${JSON.stringify(env)}: ${r.stderr}`);
    // The reason is on stderr or in the JSON log on stdout (where the signer logs it).
    assert.match(r.stdout + r.stderr, re, JSON.stringify(env));
    assert.match(r.stderr, /Apple Wallet cannot start/);
  }
});

test('a .p12 bundle with its password works in a business folder', async () => {
  const d = mkdtempSync(path.join(tmpdir(), 'loy-p12-'));
  try {
    const folder = path.join(d, 'demo');
    const made = await run(LOY_BIN, ['certs', 'dev', '--out', folder, '--p12-password', 'sekret']);
    assert.equal(made.code, 0, made.stderr);
    rmSync(path.join(folder, 'pass.pem'));
    rmSync(path.join(folder, 'pass.key'));
    writeFileSync(path.join(folder, 'password'), 'sekret\n');
    const s = new LoyServer({ env: { LOY_APPLE_CERTS_DIR: d, LOY_APNS_URL: 'https://127.0.0.1:1', LOY_PASS_CACHE_DIR: path.join(d, 'passes') } });
    await s.init();
    await s.start();
    try {
      const owner = await s.owner();
      const customer = await createCustomer(owner);
      const got = await s.anon().get(new URL(customer.walletLinks.apple).pathname);
      assert.equal(got.status, 200);
      const { files } = await unpackPkpass(got.raw);
      assert.ok(await verifies(files, path.join(folder, 'ca.pem')));
    } finally {
      await s.stop();
    }
    writeFileSync(path.join(folder, 'password'), 'wrong\n');
    const r = await serveWith({ LOY_APPLE_CERTS_DIR: d });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /demo/);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
