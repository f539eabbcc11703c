// The `loy` command line as an operator uses it: help and version, configuration errors, staff
// accounts, businesses, API keys, `verify`, `backup`, and the owner login printed on first start.
// Every check is on what the operator sees (exit code, stdout, stderr) and on the effect in the
// database or the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startServer, LoyServer, LOY_BIN, DB_KIND, OWNER_EMAIL, OWNER_PASSWORD, freePort, psql,
  createCustomer, newPhone, expectError,
} from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const KEEP = !!process.env.LOY_TEST_KEEP;

let srv, owner, scratch;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  scratch = mkdtempSync(path.join(tmpdir(), 'loy-cli-'));
});
after(async () => {
  await srv?.stop();
  if (scratch && !KEEP) rmSync(scratch, { recursive: true, force: true });
});

// ---------- helpers ----------

/** Runs a program; resolves { code, stdout, stderr } (code: exit status, or the signal name). */
function run(cmd, args, { env, input, timeout = 20000, cwd } = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, cwd, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : err.signal || -1) : 0, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the program may exit before reading stdin
    child.stdin.end(input);
  });
}

/** A bare environment: no LOY_* at all. */
const bareEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME || '/tmp', LANG: 'C.UTF-8' });

/** `loy ARGS` with the running server's environment plus overrides (undefined removes a key). */
function loy(args, { env = {}, input, timeout } = {}) {
  const e = { ...srv.env, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return run(LOY_BIN, args, { env: e, input, timeout });
}

/** What the command itself printed on stdout: its output without JSON log lines. */
function printed(r) {
  return r.stdout.split('\n').filter((l) => !/^\{"timestamp":/.test(l)).join('\n');
}

/**
 * Asserts a command's stdout is exactly `re` (its result, nothing else): an operator captures it with
 * `ID=$(loy …)` / `KEY=$(loy apikey create …)`.
 */
function assertResultOnly(results, re) {
  const wrong = results.filter(([, r]) => !re.test(r.stdout))
    .map(([what, r]) => `${what}: stdout is not only the result: ${JSON.stringify(r.stdout)}`);
  assert.deepEqual(wrong, []);
}

const show = (r) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function expectExit(r, code, what) {
  assert.equal(r.code, code, `${what}: expected exit ${code}, got ${show(r)}`);
}

/** Path of the server's SQLite file. */
function sqlitePath(dbUrl = srv.dbUrl) {
  assert.ok(dbUrl.startsWith('sqlite:'), dbUrl);
  return dbUrl.slice('sqlite:'.length);
}

async function sqlite3(file, sql) {
  const r = await run('sqlite3', ['-batch', '-cmd', '.timeout 10000', file, sql]);
  if (r.code !== 0) throw new Error(`sqlite3 ${file} ${sql}: ${show(r)}`);
  return r.stdout.trim();
}

/** Runs SQL directly on the server's database (either backend); returns psql/sqlite3 stdout. */
async function dbSql(sql) {
  if (DB_KIND === 'postgres') {
    const r = await run('psql', [srv.dbUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
    if (r.code !== 0) throw new Error(`psql ${sql}: ${show(r)}`);
    return r.stdout.trim();
  }
  return sqlite3(sqlitePath(), sql);
}

async function usersOf(client) {
  const r = await client.get('/api/v1/users');
  assert.equal(r.status, 200, r.text);
  return r.body.items;
}

async function customerCount(client) {
  let n = 0;
  let cursor = null;
  do {
    const r = await client.get(`/api/v1/customers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    n += r.body.items.length;
    cursor = r.body.nextCursor;
  } while (cursor);
  return n;
}

/** A server object for an empty database: no `loy migrate`, no `loy user add` (unlike init()). */
async function emptyInstall(env = {}) {
  const s = new LoyServer({ env });
  s.dir = mkdtempSync(path.join(tmpdir(), 'loy-cli-first-'));
  s.secretKey = crypto.randomBytes(32).toString('hex');
  s.port = await freePort();
  if (DB_KIND === 'postgres') {
    const name = `loy_t_${crypto.randomBytes(6).toString('hex')}`;
    await psql(`CREATE DATABASE ${name}`);
    const u = new URL(process.env.LOY_TEST_PG_URL);
    u.pathname = `/${name}`;
    s.pgName = name; // stop() drops it
    s.dbUrl = u.toString();
  } else {
    s.dbUrl = `sqlite:${path.join(s.dir, 'loy.db')}`;
  }
  return s;
}

/** Waits until `loy serve`'s stderr holds the owner login block; returns { email, password }. */
async function ownerLogin(s, from = 0) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const text = s.stderr.slice(from).join('\n');
    const email = /e-mail:\s*(\S+)/.exec(text);
    const password = /password:\s*(\S+)/.exec(text);
    if (email && password) return { email: email[1], password: password[1], text };
    if (Date.now() > deadline) assert.fail(`loy serve printed no owner login on stderr:\n${text}`);
    await sleep(50);
  }
}

const COMMANDS = ['serve', 'migrate', 'user', 'apikey', 'business', 'verify', 'backup', 'config'];

// ---------- 1. version and help ----------

test('loy --version prints "loy <semver>" and exits 0', async () => {
  const r = await run(LOY_BIN, ['--version'], { env: bareEnv() });
  expectExit(r, 0, 'loy --version');
  assert.match(r.stdout, /^loy \d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\n$/);
  assert.equal(r.stderr, '');
});

test('loy --help lists every command on stdout and exits 0', async () => {
  const r = await run(LOY_BIN, ['--help'], { env: bareEnv() });
  expectExit(r, 0, 'loy --help');
  assert.match(r.stdout, /^usage: loy /m);
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `--help lists ${c}`);
  assert.equal(r.stderr, '');
});

test('every subcommand --help exits 0 with its usage line on stdout', async () => {
  for (const c of COMMANDS) {
    const r = await run(LOY_BIN, [c, '--help'], { env: bareEnv() });
    expectExit(r, 0, `loy ${c} --help`);
    assert.match(r.stdout, new RegExp(`^usage: loy ${c}\\b`, 'm'), `loy ${c} --help: ${show(r)}`);
    assert.equal(r.stderr, '', `loy ${c} --help writes nothing to stderr`);
  }
  // the action word before --help works too
  for (const args of [['user', 'add', '--help'], ['apikey', 'create', '--help'], ['business', 'add', '--help']]) {
    const r = await run(LOY_BIN, args, { env: bareEnv() });
    expectExit(r, 0, `loy ${args.join(' ')}`);
    assert.match(r.stdout, new RegExp(`^usage: loy ${args[0]} ${args[1]}\\b`, 'm'));
  }
});

test('help texts show no raw printf escapes (e.g. "%%")', async () => {
  for (const c of COMMANDS) {
    const r = await run(LOY_BIN, [c, '--help'], { env: bareEnv() });
    assert.doesNotMatch(r.stdout, /%%|%[sd]\b/, `loy ${c} --help shows a raw format escape: ${JSON.stringify(r.stdout)}`);
  }
});

test('an unknown option exits 2 with the usage on stderr, nothing on stdout, and does nothing', async () => {
  const cwd = mkdtempSync(path.join(scratch, 'opt-'));
  const problems = [];
  const check = (ok, msg) => { if (!ok) problems.push(msg); };
  const cases = [
    ...['serve', 'migrate', 'verify', 'config'].map((c) => [c, '--no-such-option']),
    ['user', 'add', '--no-such-option'], ['apikey', 'create', '--no-such-option'], ['business', 'add', '--no-such-option'],
  ];
  for (const args of cases) {
    const r = await run(LOY_BIN, args, { env: { ...srv.env }, cwd, timeout: 10000 });
    const what = `loy ${args.join(' ')}`;
    check(r.code === 2, `${what}: exit ${r.code}, expected 2`);
    check(new RegExp(`usage: loy ${args[0]}\\b`).test(r.stderr), `${what}: no usage on stderr (stderr: ${JSON.stringify(r.stderr)})`);
    check(r.stdout === '', `${what}: writes to stdout: ${JSON.stringify(r.stdout)}`);
  }
  // For backup an option-looking FILE is not a file name: `-h` is help (exit 0), anything else
  // unknown is a usage error (exit 2); neither writes a file.
  for (const [opt, code] of [['-h', 0], ['--no-such-option', 2]]) {
    const r = await run(LOY_BIN, ['backup', opt], { env: { ...srv.env }, cwd, timeout: 10000 });
    check(!existsSync(path.join(cwd, opt)), `loy backup ${opt}: exit ${r.code}, wrote a backup to a file named "${opt}" (stdout ${JSON.stringify(r.stdout)})`);
    check(r.code === code, `loy backup ${opt}: exit ${r.code}, expected ${code}`);
    check(/usage: loy backup\b/.test(code === 0 ? r.stdout : r.stderr), `loy backup ${opt}: no usage`);
  }
  assert.deepEqual(problems, []);
});

test('an unknown command or a missing action exits 2 with usage on stderr', async () => {
  for (const args of [['frobnicate'], [], ['--verbose']]) {
    const r = await run(LOY_BIN, args, { env: bareEnv() });
    expectExit(r, 2, `loy ${args.join(' ')}`);
    assert.match(r.stderr, /usage: loy /, `usage on stderr: ${show(r)}`);
    assert.equal(r.stdout, '', 'nothing on stdout');
  }
  const unknown = await run(LOY_BIN, ['frobnicate'], { env: bareEnv() });
  assert.match(unknown.stderr, /frobnicate/, 'the error names the unknown command');
  for (const args of [['user'], ['user', 'list'], ['apikey'], ['business'], ['backup'], ['config']]) {
    const r = await run(LOY_BIN, args, { env: bareEnv() });
    expectExit(r, 2, `loy ${args.join(' ')}`);
    assert.match(r.stderr, new RegExp(`usage: loy ${args[0]}\\b`), `usage on stderr: ${show(r)}`);
    assert.equal(r.stdout, '');
  }
});

// ---------- 2. config --defaults ----------

test('loy config --defaults prints every LOY_* key and equals .env.example', async () => {
  const r = await run(LOY_BIN, ['config', '--defaults'], { env: bareEnv() });
  expectExit(r, 0, 'loy config --defaults');
  const example = readFileSync(path.join(repo, '.env.example'), 'utf8');
  assert.equal(r.stdout, example, 'the output is byte for byte the repository .env.example');
  const keys = [...r.stdout.matchAll(/^(LOY_[A-Z_]+)=/gm)].map((m) => m[1]);
  assert.equal(new Set(keys).size, keys.length, 'no key twice');
  // every key the harness sets and every key the deployment guide documents
  const documented = new Set([
    ...Object.keys(srv.env).filter((k) => k.startsWith('LOY_')),
    ...[...readFileSync(path.join(repo, 'docs/deployment.md'), 'utf8').matchAll(/\bLOY_[A-Z_]+\b/g)].map((m) => m[0]),
  ]);
  for (const k of documented) assert.ok(keys.includes(k), `${k} is in loy config --defaults`);
  for (const line of r.stdout.split('\n')) {
    assert.ok(line === '' || line.startsWith('#') || /^LOY_[A-Z_]+=/.test(line), `unexpected line ${JSON.stringify(line)}`);
  }
  // the printed file is itself a valid --config file (the environment still overrides it)
  const m = await loy(['migrate', '--config', path.join(repo, '.env.example')]);
  expectExit(m, 0, 'loy migrate --config .env.example');
});

// ---------- 3. bad configuration ----------

test('bad configuration fails with exit 1, names the setting, and creates nothing', async () => {
  const fresh = () => path.join(scratch, `cfg-${crypto.randomBytes(4).toString('hex')}.db`);
  const cases = [
    { what: 'LOY_THREADS=0', env: { LOY_THREADS: '0' }, names: /LOY_THREADS/ },
    { what: 'LOY_THREADS=abc', env: { LOY_THREADS: 'abc' }, names: /LOY_THREADS/ },
    { what: 'LOY_LOG_LEVEL=loud', env: { LOY_LOG_LEVEL: 'loud' }, names: /LOY_LOG_LEVEL/ },
  ];
  for (const cmd of ['migrate', 'serve']) {
    for (const c of cases) {
      const file = fresh();
      const r = await loy([cmd], { env: { ...c.env, LOY_DATABASE_URL: `sqlite:${file}` }, timeout: 10000 });
      expectExit(r, 1, `${c.what} loy ${cmd}`);
      assert.match(r.stderr, c.names, `${c.what} loy ${cmd}: stderr names the setting: ${show(r)}`);
      assert.ok(!existsSync(file), `${c.what} loy ${cmd} created no database file`);
    }
  }

  // a --config file with an unknown key: the message names file:line
  const cfg = path.join(scratch, 'bad.env');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(cfg, '# comment\nLOY_LISTEN=127.0.0.1:1\n\nLOY_NO_SUCH_KEY=1\n');
  const file = fresh();
  const r = await loy(['migrate', '--config', cfg], { env: { LOY_DATABASE_URL: `sqlite:${file}` } });
  expectExit(r, 1, 'loy migrate --config bad.env');
  assert.ok(r.stderr.includes(`${cfg}:4`), `stderr names ${cfg}:4: ${show(r)}`);
  assert.ok(!existsSync(file), 'no database file was created');
  const missing = await loy(['migrate', '--config', path.join(scratch, 'nope.env')]);
  expectExit(missing, 1, 'loy migrate --config <missing file>');
  assert.match(missing.stderr, /nope\.env/);

  // an unsupported database URL
  const my = await loy(['migrate'], { env: { LOY_DATABASE_URL: 'mysql://loy:MyS3cretPw@x/loy' } });
  expectExit(my, 1, 'LOY_DATABASE_URL=mysql://… loy migrate');
  assert.match(my.stderr, /LOY_DATABASE_URL/, show(my));
  assert.ok(!(my.stdout + my.stderr).includes('MyS3cretPw'), `the password leaks: ${show(my)}`);

  // an unreachable PostgreSQL server: exit 1, the password appears nowhere
  const port = await freePort();
  const secret = `pw${crypto.randomBytes(6).toString('hex')}`;
  const t0 = Date.now();
  const pg = await loy(['migrate'], { env: { LOY_DATABASE_URL: `postgresql://loy:${secret}@127.0.0.1:${port}/loy` } });
  expectExit(pg, 1, 'unreachable postgresql URL loy migrate');
  assert.ok(Date.now() - t0 < 15000, 'fails promptly');
  assert.match(pg.stderr, /LOY_DATABASE_URL/, show(pg));
  assert.ok(!pg.stdout.includes(secret), `the password is in stdout: ${pg.stdout}`);
  assert.ok(!pg.stderr.includes(secret), `the password is in stderr: ${pg.stderr}`);
  const pgServe = await loy(['serve'], { env: { LOY_DATABASE_URL: `postgresql://loy:${secret}@127.0.0.1:${port}/loy` }, timeout: 10000 });
  expectExit(pgServe, 1, 'unreachable postgresql URL loy serve');
  assert.ok(!(pgServe.stdout + pgServe.stderr).includes(secret), `loy serve leaks the password: ${show(pgServe)}`);
});

// ---------- 4. user add, business add ----------

test('loy user add: refused input exits 2 and creates nothing', async () => {
  const before = (await usersOf(owner)).map((u) => u.email).sort();
  const cases = [
    { what: 'invalid email', args: ['--email', 'not-an-email', '--role', 'cashier'], input: 'good-password-1\n' },
    { what: 'email with a space', args: ['--email', 'a b@example.com', '--role', 'cashier'], input: 'good-password-1\n' },
    { what: 'unknown role', args: ['--email', 'role-x@test.loy', '--role', 'superuser'], input: 'good-password-1\n' },
    { what: 'short password', args: ['--email', 'short-pw@test.loy', '--role', 'cashier'], input: 'short7!\n' },
    { what: 'no password on stdin', args: ['--email', 'no-pw@test.loy', '--role', 'cashier'], input: '' },
    { what: 'missing --role', args: ['--email', 'no-role@test.loy'], input: 'good-password-1\n' },
    { what: 'missing --email', args: ['--role', 'viewer'], input: 'good-password-1\n' },
  ];
  for (const c of cases) {
    const r = await loy(['user', 'add', ...c.args], { input: c.input });
    expectExit(r, 2, `loy user add (${c.what})`);
    assert.equal(r.stdout, '', `${c.what}: no id printed`);
    assert.notEqual(r.stderr.trim(), '', `${c.what}: says why on stderr`);
  }
  assert.deepEqual((await usersOf(owner)).map((u) => u.email).sort(), before, 'no user was created');
});

test('loy user add: a duplicate e-mail in any case exits 1', async () => {
  const n = (await usersOf(owner)).length;
  const results = [];
  for (const email of [OWNER_EMAIL, OWNER_EMAIL.toUpperCase(), 'Owner@Test.Loy']) {
    const r = await loy(['user', 'add', '--email', email, '--role', 'admin'], { input: 'another-password-1\n' });
    expectExit(r, 1, `loy user add --email ${email}`);
    assert.match(r.stderr, /exists/i, show(r));
    assert.equal(printed(r).trim(), '', 'no id printed');
    results.push([`loy user add --email ${email} (duplicate)`, r]);
  }
  assert.equal((await usersOf(owner)).length, n);
  // the owner's password was not touched
  await srv.login(OWNER_EMAIL, OWNER_PASSWORD);
  assertResultOnly(results, /^$/);
});

test('loy user add: prints the new id; the user signs in with that role', async () => {
  const results = [];
  for (const role of ['admin', 'cashier', 'viewer', 'owner']) {
    const email = `Cli-${role}-${crypto.randomBytes(3).toString('hex')}@Test.Loy`;
    const password = `pw-${role}-${crypto.randomBytes(6).toString('hex')}`;
    const r = await loy(['user', 'add', '--email', email, '--role', role, '--name', `CLI ${role}`], { input: `${password}\n` });
    expectExit(r, 0, `loy user add --role ${role}`);
    results.push([`loy user add --role ${role}`, r]);
    assert.match(printed(r), /^\d+\n$/, `prints the id: ${JSON.stringify(r.stdout)}`);
    const id = Number(printed(r));
    const listed = (await usersOf(owner)).find((u) => u.id === id);
    assert.ok(listed, `user ${id} is in GET /api/v1/users`);
    assert.deepEqual([listed.email, listed.role, listed.name, listed.disabled], [email.toLowerCase(), role, `CLI ${role}`, false]);
    const c = srv.anon();
    const login = await c.post('/api/v1/auth/login', { email, password });
    assert.equal(login.status, 200, `login as ${email}: ${login.text}`);
    assert.equal(login.body.user.id, id);
    assert.equal(login.body.user.role, role);
    const wrong = await srv.anon().post('/api/v1/auth/login', { email, password: `${password}x` });
    expectError(wrong, 401, 'unauthorized');
  }
  // a password read with a Windows line ending (CRLF) and no trailing newline at all
  for (const [tail, label] of [['\r\n', 'CRLF'], ['', 'no newline']]) {
    const email = `eol-${crypto.randomBytes(3).toString('hex')}@test.loy`;
    const r = await loy(['user', 'add', '--email', email, '--role', 'viewer'], { input: `eol-password-1${tail}` });
    expectExit(r, 0, `loy user add (password with ${label})`);
    await srv.login(email, 'eol-password-1');
  }
  assertResultOnly(results, /^\d+\n$/);
});

test('loy business add, and loy user add --business SLUG for it', async () => {
  const slug = `shop-${crypto.randomBytes(3).toString('hex')}`;
  const b = await loy(['business', 'add', '--name', 'Second Shop', '--slug', slug]);
  expectExit(b, 0, 'loy business add');
  assert.match(printed(b), /^\d+\n$/, `prints the id: ${JSON.stringify(b.stdout)}`);
  const bizId = Number(printed(b));

  const taken = await loy(['business', 'add', '--name', 'Again', '--slug', slug]);
  expectExit(taken, 1, 'loy business add (taken slug)');
  assert.match(taken.stderr, /taken|exists/i, show(taken));
  const demoTaken = await loy(['business', 'add', '--name', 'Demo again', '--slug', 'demo']);
  expectExit(demoTaken, 1, 'loy business add --slug demo');
  for (const bad of ['Bad Slug', 'UPPER', 'a', 'dots.not.ok', '']) {
    const r = await loy(['business', 'add', '--name', 'Bad', '--slug', bad]);
    expectExit(r, 2, `loy business add --slug ${JSON.stringify(bad)}`);
    assert.match(r.stderr, /slug/, show(r));
  }
  const noName = await loy(['business', 'add', '--slug', `x-${slug}`]);
  expectExit(noName, 2, 'loy business add without --name');

  const email = `second-${crypto.randomBytes(3).toString('hex')}@test.loy`;
  const u = await loy(['user', 'add', '--email', email, '--role', 'owner', '--business', slug], { input: 'second-owner-pw\n' });
  expectExit(u, 0, 'loy user add --business');
  const uid = Number(printed(u));
  const second = await srv.login(email, 'second-owner-pw');
  const me = await second.get('/api/v1/auth/me');
  assert.equal(me.status, 200, me.text);
  assert.deepEqual([me.body.user.id, me.body.business.id, me.body.business.slug, me.body.business.name], [uid, bizId, slug, 'Second Shop']);
  const settings = await second.get('/api/v1/settings');
  assert.equal(settings.status, 200, settings.text);
  assert.equal(settings.body.slug, slug);
  // the help promises "5 % back, no welcome bonus"
  assert.equal(settings.body.loyaltySettings.pointsPerRuble, 500);
  assert.equal(settings.body.loyaltySettings.welcomeBonus, 0);
  // tenants stay apart: the demo owner does not see this user, nor the other way round
  assert.ok(!(await usersOf(owner)).some((x) => x.id === uid));
  assert.deepEqual((await usersOf(second)).map((x) => x.id), [uid]);

  const unknown = await loy(['user', 'add', '--email', `nobiz-${slug}@test.loy`, '--role', 'viewer', '--business', 'no-such-shop'], { input: 'password-123\n' });
  expectExit(unknown, 1, 'loy user add --business no-such-shop');
  assert.match(unknown.stderr, /no-such-shop/, show(unknown));
  const login = await srv.anon().post('/api/v1/auth/login', { email: `nobiz-${slug}@test.loy`, password: 'password-123' });
  expectError(login, 401, 'unauthorized');
  assertResultOnly([['loy business add', b], ['loy user add --business', u]], /^\d+\n$/);
  assertResultOnly([['loy business add (taken slug)', taken]], /^$/);
});

// ---------- 5. apikey create ----------

test('loy apikey create prints exactly one line, the key, which POST /api/v1/auth/token accepts', async () => {
  const name = `CLI till ${crypto.randomBytes(3).toString('hex')}`;
  const r = await loy(['apikey', 'create', '--name', name, '--role', 'cashier']);
  expectExit(r, 0, 'loy apikey create --role cashier');
  assert.match(printed(r), /^\S+\n$/, `prints the key: ${JSON.stringify(r.stdout)}`);
  const key = printed(r).trim();
  const cashier = srv.anon();
  await cashier.useApiKey(key);
  const c = await createCustomer(cashier, { name: 'By CLI key' });
  const cr = await cashier.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 5 });
  assert.equal(cr.status, 201, cr.text);
  assert.equal(cr.body.channel, 'api');
  expectError(await cashier.get('/api/v1/users'), 403, 'forbidden');
  const keys = await owner.get('/api/v1/apikeys');
  assert.equal(keys.status, 200, keys.text);
  const listed = keys.body.items.find((k) => k.name === name);
  assert.ok(listed, 'the key is in GET /api/v1/apikeys');
  assert.equal(listed.role, 'cashier');
  assert.ok(!JSON.stringify(keys.body).includes(key), 'the full key is never listed');

  // owner by CLI: the operator may
  const o = await loy(['apikey', 'create', '--name', 'CLI owner key', '--role', 'owner']);
  expectExit(o, 0, 'loy apikey create --role owner');
  const ownerKey = srv.anon();
  await ownerKey.useApiKey(printed(o).trim());
  assert.equal((await ownerKey.get('/api/v1/users')).status, 200);

  for (const args of [['--name', 'x', '--role', 'god'], ['--name', 'x'], ['--role', 'cashier'], ['--name', 'x'.repeat(201), '--role', 'viewer']]) {
    const bad = await loy(['apikey', 'create', ...args]);
    expectExit(bad, 2, `loy apikey create ${args.join(' ').slice(0, 60)}`);
    assert.equal(bad.stdout, '', 'no key printed');
  }
  const before = (await owner.get('/api/v1/apikeys')).body.items.length;
  assert.ok(!(await owner.get('/api/v1/apikeys')).body.items.some((k) => k.name === 'x'), 'no refused key was created');
  assert.equal(before, keys.body.items.length + 1);
  const wrongBiz = await loy(['apikey', 'create', '--name', 'x', '--role', 'viewer', '--business', 'no-such-shop']);
  expectExit(wrongBiz, 1, 'loy apikey create --business no-such-shop');
  // "prints it once, alone on one line": KEY=$(loy apikey create …) must capture the key only
  assertResultOnly([['loy apikey create --role cashier', r], ['loy apikey create --role owner', o]], /^\S+\n$/);
});

// ---------- 6. verify ----------

test('loy verify passes, finds a tampered balance (naming customer, balance, ledger sum), passes once fixed', async () => {
  const anon = srv.anon();
  const cashier = await srv.apiKeyClient('cashier');
  const made = [];
  for (let i = 0; i < 4; i++) {
    const r = await anon.post('/api/v1/register', { name: `Verify ${i}`, phone: newPhone(), consent: true });
    assert.equal(r.status, 201, r.text);
    made.push(r.body);
  }
  for (const [i, c] of made.entries()) {
    const cr = await cashier.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 40 + i });
    assert.equal(cr.status, 201, cr.text);
    const db = await cashier.post(`/api/v1/customers/${c.id}/transactions`, { type: 'debit', amount: 15 });
    assert.equal(db.status, 201, db.text);
  }
  const total = await customerCount(owner);
  const ok = await loy(['verify']);
  expectExit(ok, 0, 'loy verify');
  assert.match(ok.stdout, /(\d+) customers? checked, 0 mismatch/, show(ok));
  assert.equal(Number(/(\d+) customers? checked/.exec(ok.stdout)[1]), total, 'counts every customer');

  const victim = made[2];
  const balance = (await owner.get(`/api/v1/customers/${victim.id}`)).body.balance;
  assert.equal(balance, 100 + 42 - 15);
  await dbSql(`UPDATE customers SET balance = balance + 7 WHERE id = ${victim.id}`);
  const bad = await loy(['verify']);
  expectExit(bad, 1, 'loy verify after tampering');
  assert.match(bad.stdout, new RegExp(`customer ${victim.id}\\b.*\\bbalance ${balance + 7}\\b.*\\bledger sum ${balance}\\b`), show(bad));
  assert.match(bad.stdout, /1 mismatch/, show(bad));
  for (const c of made) if (c.id !== victim.id) assert.doesNotMatch(bad.stdout, new RegExp(`customer ${c.id}\\b`), 'only the tampered customer is named');

  await dbSql(`UPDATE customers SET balance = balance - 7 WHERE id = ${victim.id}`);
  const again = await loy(['verify']);
  expectExit(again, 0, 'loy verify after the fix');
  assert.match(again.stdout, new RegExp(`${total} customers? checked, 0 mismatch`), show(again));
  assert.equal((await owner.get(`/api/v1/customers/${victim.id}`)).body.balance, balance);

  const extra = await loy(['verify', '--deep']);
  expectExit(extra, 2, 'loy verify --deep');
});

// ---------- 7. backup ----------

test('loy backup on PostgreSQL exits 1 with pg_dump advice', { skip: DB_KIND !== 'postgres' && 'PostgreSQL only (SQLite backups are tested below)' }, async () => {
  const file = path.join(scratch, 'pg-backup.db');
  const r = await loy(['backup', file]);
  expectExit(r, 1, 'loy backup on PostgreSQL');
  assert.match(r.stdout + r.stderr, /pg_dump/, show(r));
  assert.ok(!existsSync(file), 'no file written');
});

test('loy backup while credits are being posted: a consistent copy holding every acknowledged credit', { skip: DB_KIND === 'postgres' && 'SQLite only: on PostgreSQL `loy backup` refuses and points to pg_dump (tested above)' }, async () => {
  const cashier = await srv.apiKeyClient('cashier');
  const c = await createCustomer(owner, { name: 'Backup load' });
  const acked = [];
  let stop = false;
  let failure = null;
  const poster = (async () => {
    for (let i = 0; !stop; i++) {
      const r = await cashier.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 1, description: `bk-${i}` });
      if (r.status !== 201) { failure = `credit ${i}: ${r.status} ${r.text}`; return; }
      acked.push(r.body.id);
    }
  })();
  try {
    while (acked.length < 25 && !failure) await sleep(5);
    assert.equal(failure, null);
    const ackedBefore = [...acked];
    const file = path.join(scratch, 'live-backup.db');
    const r = await loy(['backup', file]);
    const ackedDuring = acked.length;
    await sleep(100); // keep posting a moment after the backup returns
    stop = true;
    await poster;
    assert.equal(failure, null, 'every credit during the backup was accepted');
    expectExit(r, 0, `loy backup ${file}`);
    assert.ok(r.stdout.includes(file), `says where it wrote: ${show(r)}`);
    assert.ok(acked.length > ackedDuring || ackedDuring > ackedBefore.length, 'credits really were posted around the backup');

    assert.equal(await sqlite3(file, 'PRAGMA integrity_check'), 'ok');
    const v = await run(LOY_BIN, ['verify'], { env: { ...srv.env, LOY_DATABASE_URL: `sqlite:${file}` } });
    expectExit(v, 0, 'loy verify on the copy');
    assert.match(v.stdout, /0 mismatch/);
    const where = `customer_id = ${c.id} AND type = 'credit' AND description LIKE 'bk-%'`;
    const n = Number(await sqlite3(file, `SELECT COUNT(*) FROM transactions WHERE ${where}`));
    assert.ok(n >= ackedBefore.length, `the copy holds ${n} credits, ${ackedBefore.length} were acknowledged before the backup started`);
    assert.ok(n <= acked.length, 'and none that was never posted');
    const ids = new Set((await sqlite3(file, `SELECT id FROM transactions WHERE ${where}`)).split('\n').map(Number));
    for (const id of ackedBefore) assert.ok(ids.has(id), `credit ${id}, acknowledged before the backup, is in the copy`);
    const bal = Number(await sqlite3(file, `SELECT balance FROM customers WHERE id = ${c.id}`));
    assert.equal(bal, 100 + n, 'the copied balance matches the copied ledger');
  } finally {
    stop = true;
    await poster;
  }
  // the live database is still fine and still being served
  const live = await loy(['verify']);
  expectExit(live, 0, 'loy verify on the live database after the backup');
  assert.equal((await owner.get(`/api/v1/customers/${c.id}`)).body.balance, 100 + acked.length);
});

test('loy backup onto the live database file itself is refused (exit 1) and loses nothing', { skip: DB_KIND === 'postgres' && 'SQLite only' }, async () => {
  const live = sqlitePath();
  const results = [];
  // the server idle …
  results.push(['idle', await loy(['backup', live])]);
  // … and while a client posts credits
  const cashier = await srv.apiKeyClient('cashier');
  const c = await createCustomer(owner, { name: 'Self backup' });
  let stop = false;
  let n = 0;
  let failure = null;
  const poster = (async () => {
    while (!stop) {
      const r = await cashier.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 1 });
      if (r.status !== 201) { failure = `${r.status} ${r.text}`; return; }
      n++;
    }
  })();
  try {
    while (n < 10 && !failure) await sleep(5);
    for (let i = 0; i < 3; i++) results.push([`under load #${i + 1}`, await loy(['backup', live])]);
  } finally {
    stop = true;
    await poster;
  }
  assert.equal(failure, null, 'every credit was accepted');
  const got = await owner.get(`/api/v1/customers/${c.id}`);
  assert.equal(got.body.balance, 100 + n, 'every acknowledged credit is still there');
  const v = await loy(['verify']);
  expectExit(v, 0, 'loy verify after a backup onto itself');
  assert.equal(await sqlite3(live, 'PRAGMA integrity_check'), 'ok');
  const wrong = results.filter(([, r]) => r.code !== 1 || /backup written/.test(r.stdout))
    .map(([when, r]) => `loy backup ${live} (${when}): exit ${r.code}, stdout ${JSON.stringify(r.stdout.trim())}, stderr ${JSON.stringify(r.stderr.trim())}`);
  assert.deepEqual(wrong, [], 'a backup onto the database it copies is refused every time');
});

test('loy backup to an unwritable path exits 1; without FILE exits 2', async () => {
  const r = await loy(['backup', '/proc/nope/x.db']);
  expectExit(r, 1, 'loy backup /proc/nope/x.db');
  assert.notEqual(r.stderr.trim(), '', 'says why on stderr');
  assert.doesNotMatch(r.stdout, /backup written/, 'does not claim success');
  const none = await loy(['backup']);
  expectExit(none, 2, 'loy backup (no FILE)');
});

// ---------- 8. first start of an empty database ----------

test('first start of an empty database prints the owner login once; it works; it never reaches the log', async () => {
  const s = await emptyInstall();
  try {
    await s.start();
    const { email, password, text } = await ownerLogin(s);
    assert.equal(email, 'owner@demo.loy');
    assert.ok(password.length >= 12, `a strong password: ${password}`);
    assert.equal(text.split(password).length - 1, 1, 'the password is printed once');
    assert.equal((text.match(/e-mail:/g) || []).length, 1, 'the login block is printed once');

    const c = await s.login(email, password);
    assert.equal(c.user.role, 'owner');
    assert.equal(c.user.email, 'owner@demo.loy');
    const settings = await c.get('/api/v1/settings');
    assert.equal(settings.status, 200, settings.text);
    assert.equal(settings.body.slug, 'demo');
    assert.equal(settings.body.loyaltySettings.pointsPerRuble, 500);
    assert.equal(settings.body.loyaltySettings.welcomeBonus, 100);
    assert.deepEqual((await usersOf(c)).map((u) => u.email), ['owner@demo.loy'], 'the only staff account');

    const errLines = s.stderr.length;
    await s.restart();
    await c.get('/api/v1/settings'); // give the new process's stderr time to arrive
    await sleep(200);
    const after = s.stderr.slice(errLines).join('\n');
    assert.doesNotMatch(after, /password:|e-mail:/, `a restart prints no login again:\n${after}`);
    await s.login(email, password); // the same login still works
    assert.equal((await usersOf(c)).length, 1, 'no second owner');

    assert.ok(s.logs.length > 0, 'the server logged');
    for (const l of s.logs) {
      assert.ok(l.json, `stdout is JSON lines: ${l.raw}`);
      assert.ok(!l.raw.includes(password), `a log line holds the owner password: ${l.raw}`);
    }
  } finally {
    await s.stop();
  }
});

test('LOY_OWNER_EMAIL names the first owner; `loy migrate` first does not create one', async () => {
  const s = await emptyInstall({ LOY_OWNER_EMAIL: 'boss@shop.example' });
  try {
    const m = await s.cli(['migrate']);
    expectExit(m, 0, 'loy migrate on an empty database');
    assert.doesNotMatch(m.stdout + m.stderr, /password:/, 'migrate prints no login');
    await s.start();
    const { email, password } = await ownerLogin(s);
    assert.equal(email, 'boss@shop.example');
    const c = await s.login(email, password);
    assert.equal(c.user.role, 'owner');
    const bad = await s.anon().post('/api/v1/auth/login', { email: 'owner@demo.loy', password });
    expectError(bad, 401, 'unauthorized');
    for (const l of s.logs) assert.ok(!l.raw.includes(password), `a log line holds the owner password: ${l.raw}`);
  } finally {
    await s.stop();
  }
});

test('a database prepared with `loy user add` gets no generated owner', async () => {
  // the harness's server was made with `loy migrate` + `loy user add`: its serve printed no login
  assert.doesNotMatch(srv.stderr.join('\n'), /password:/);
  assert.ok(!(await usersOf(owner)).some((u) => u.email === 'owner@demo.loy'));
});
