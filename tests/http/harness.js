// Test harness: starts `loy serve` on a free port with a fresh database (SQLite file or a new
// PostgreSQL database), captures its JSON log lines, and gives HTTP clients whose every response is
// checked against docs/openapi.yaml.
//
// Environment:
//   LOY_BIN          path of the loy binary (default ../../build/loy relative to this file)
//   LOY_TEST_DB      sqlite (default) | postgres
//   LOY_TEST_PG_URL  base URL of a PostgreSQL cluster (for postgres); a database per server is made
//   LOY_TEST_VERBOSE=1  echo the server's stdout/stderr
//   LOY_TEST_KEEP=1     keep temp dirs and databases after the tests
//
// startServer({ apple: true }) (or apple: { apnsUrl }) turns Apple Wallet on with the development
// certificates of `loy certs dev` (made once per test process: appleCerts()); APNs is an
// unreachable address unless apnsUrl names one (the fake in tests/fakes/apns.js), so nothing is
// ever sent to Apple. unpackPkpass(buf) takes a .pkpass apart.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import yauzl from 'yauzl';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from './lib/client.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const LOY_BIN = path.resolve(process.env.LOY_BIN || path.join(here, '../../build/loy'));
export const DB_KIND = process.env.LOY_TEST_DB === 'postgres' || process.env.LOY_TEST_DB === 'postgresql' ? 'postgres' : 'sqlite';
export const OWNER_EMAIL = 'owner@test.loy';
export const OWNER_PASSWORD = 'owner-password-Zx81!qv';
const VERBOSE = !!process.env.LOY_TEST_VERBOSE;
const KEEP = !!process.env.LOY_TEST_KEEP;

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(cmd, args, { env, input, timeout = 30000 } = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : err.signal || -1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** The id a CLI command printed (its last integer). */
export function lastInt(out) {
  const m = /(\d+)\D*$/.exec(out);
  if (!m) throw new Error(`no id in CLI output ${JSON.stringify(out)}`);
  return Number(m[1]);
}

async function createPgDatabase() {
  const base = process.env.LOY_TEST_PG_URL;
  if (!base) throw new Error('LOY_TEST_DB=postgres needs LOY_TEST_PG_URL');
  const name = `loy_t_${crypto.randomBytes(6).toString('hex')}`;
  const r = await run('psql', [base, '-v', 'ON_ERROR_STOP=1', '-qAtc', `CREATE DATABASE ${name}`]);
  if (r.code !== 0) throw new Error(`psql CREATE DATABASE failed: ${r.stderr}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

/** Runs SQL on the PostgreSQL cluster's base database (LOY_TEST_PG_URL). */
export async function psql(sql) {
  const r = await run('psql', [process.env.LOY_TEST_PG_URL, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
  if (r.code !== 0) throw new Error(`psql ${sql}: ${r.stderr}`);
  return r.stdout;
}

async function dropPgDatabase(name) {
  const base = process.env.LOY_TEST_PG_URL;
  await run('psql', [base, '-qAtc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}

/**
 * A `loy` installation under test: database + config; `start()` spawns `loy serve`.
 */
export class LoyServer {
  constructor(opts = {}) {
    this.opts = opts;
    this.registerRate = opts.registerRate ?? 10000;
    this.loginRate = opts.loginRate ?? 10000;
    this.extraEnv = opts.env || {};
    this.logs = []; // parsed stdout lines: { raw, json|null }
    this.stderr = [];
    this.proc = null;
    this.clients = new Set();
  }

  get env() {
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME || '/tmp',
      LANG: 'C.UTF-8',
      LOY_LISTEN: `127.0.0.1:${this.port}`,
      LOY_DATABASE_URL: this.dbUrl,
      LOY_SECRET_KEY: this.secretKey,
      LOY_LOG_LEVEL: 'debug',
      LOY_BASE_URL: `http://127.0.0.1:${this.port}`,
      LOY_REGISTER_RATE: String(this.registerRate),
      LOY_LOGIN_RATE: String(this.loginRate),
      ...this.extraEnv,
    };
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Runs a loy CLI command with the server's environment. */
  async cli(args, input) {
    return run(LOY_BIN, args, { env: this.env, input });
  }

  async cliOk(args, input) {
    const r = await this.cli(args, input);
    if (r.code !== 0) throw new Error(`loy ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout.trim();
  }

  async init() {
    if (!existsSync(LOY_BIN)) throw new Error(`loy binary not found at ${LOY_BIN} (set LOY_BIN)`);
    this.dir = mkdtempSync(path.join(tmpdir(), 'loy-http-'));
    this.secretKey = crypto.randomBytes(32).toString('hex');
    this.port = await freePort();
    if (this.opts.apple) {
      const apple = this.opts.apple === true ? {} : this.opts.apple;
      this.certsDir = await appleCerts();
      this.extraEnv = {
        LOY_APPLE_PASS_CERT: path.join(this.certsDir, 'pass.pem'),
        LOY_APPLE_PASS_KEY: path.join(this.certsDir, 'pass.key'),
        LOY_APPLE_WWDR_CERT: path.join(this.certsDir, 'wwdr.pem'),
        LOY_APNS_CA_FILE: path.join(this.certsDir, 'ca.pem'),
        LOY_APNS_URL: apple.apnsUrl || 'https://127.0.0.1:1',
        LOY_PASS_CACHE_DIR: path.join(this.dir, 'passes'),
        ...this.extraEnv,
      };
    }
    if (DB_KIND === 'postgres') {
      const db = await createPgDatabase();
      this.pgName = db.name;
      this.dbUrl = db.url;
    } else {
      this.dbUrl = `sqlite:${path.join(this.dir, 'loy.db')}`;
    }
    await this.cliOk(['migrate']);
    this.ownerId = lastInt(await this.cliOk(['user', 'add', '--email', OWNER_EMAIL, '--role', 'owner'], `${OWNER_PASSWORD}\n`));
    return this;
  }

  async start() {
    this.exited = null;
    const proc = spawn(LOY_BIN, ['serve'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      resolve(this.exited);
    }));
    this.exitPromise = exitPromise;
    const lines = (stream, sink, tag) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          sink(line);
          if (VERBOSE) process.stderr.write(`[loy ${tag}] ${line}\n`);
        }
      });
      stream.on('end', () => { if (buf) sink(buf); buf = ''; });
    };
    lines(proc.stdout, (l) => {
      let json = null;
      try { json = JSON.parse(l); } catch { /* kept raw */ }
      this.logs.push({ raw: l, json });
    }, 'out');
    lines(proc.stderr, (l) => this.stderr.push(l), 'err');

    const deadline = Date.now() + 10000;
    for (;;) {
      if (this.exited) {
        throw new Error(`loy serve exited early (${JSON.stringify(this.exited)})\nstdout:\n${this.logs.map((l) => l.raw).join('\n')}\nstderr:\n${this.stderr.join('\n')}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) {
        await this.kill('SIGKILL');
        throw new Error(`loy serve did not answer /healthz within 10 s\nstderr:\n${this.stderr.join('\n')}`);
      }
      await sleep(50);
    }
    return this;
  }

  async kill(signal = 'SIGKILL') {
    if (!this.proc || this.exited) return this.exited;
    this.proc.kill(signal);
    return this.exitPromise;
  }

  /** Stops gracefully (SIGTERM, then SIGKILL after 5 s). */
  async stopProcess() {
    if (!this.proc || this.exited) return;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exitPromise;
    clearTimeout(t);
  }

  /** Restarts `loy serve` on the same database (and port). */
  async restart() {
    await this.stopProcess();
    for (const c of this.clients) c.resetConnections();
    return this.start();
  }

  async stop() {
    for (const c of this.clients) c.close();
    await this.stopProcess();
    // A clean shutdown is part of the contract: exit 0 on SIGTERM, and (in the sanitizer build)
    // no AddressSanitizer, LeakSanitizer or UBSan report on the way out.
    const report = this.stderr.find((l) => /ERROR: (Address|Leak)Sanitizer|runtime error:/.test(l));
    if (report || (this.exited && this.exited.code !== 0 && this.exited.signal !== 'SIGKILL')) {
      throw new Error(`loy serve did not shut down cleanly (${JSON.stringify(this.exited)})\n${this.stderr.join('\n')}`);
    }
    if (KEEP) {
      process.stderr.write(`kept ${this.dir} ${this.dbUrl}\n`);
      return;
    }
    if (this.pgName) await dropPgDatabase(this.pgName);
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** `loy verify`: { code, stdout, stderr }. */
  verify() {
    return this.cli(['verify']);
  }

  /** A client without credentials. */
  anon() {
    const c = new Client(this);
    this.clients.add(c);
    return c;
  }

  async login(email = OWNER_EMAIL, password = OWNER_PASSWORD) {
    const c = this.anon();
    await c.login(email, password);
    return c;
  }

  /** The owner's session client (cached). */
  async owner() {
    if (!this._owner) this._owner = await this.login();
    return this._owner;
  }

  /** A bearer-token client for a new API key of the role, created by the owner through the API. */
  async apiKeyClient(role, name = `${role} key ${crypto.randomBytes(3).toString('hex')}`) {
    const owner = await this.owner();
    const res = await owner.post('/api/v1/apikeys', { name, role });
    if (res.status !== 201) throw new Error(`creating a ${role} API key: ${res.status} ${res.text}`);
    const c = this.anon();
    await c.useApiKey(res.body.key);
    c.apiKey = res.body;
    return c;
  }

  /** A session client for a new staff user of the role, created by the owner through the API. */
  async staff(role) {
    const owner = await this.owner();
    const email = `${role}-${crypto.randomBytes(4).toString('hex')}@test.loy`;
    const password = `pw-${crypto.randomBytes(8).toString('hex')}`;
    const res = await owner.post('/api/v1/users', { email, password, role, name: `${role} user` });
    if (res.status !== 201) throw new Error(`creating a ${role} user: ${res.status} ${res.text}`);
    const c = await this.login(email, password);
    c.user = res.body;
    c.password = password;
    return c;
  }

  /** Log lines (raw strings) captured so far. */
  logText() {
    return this.logs.map((l) => l.raw).join('\n');
  }
}

/** Creates and starts a server; use in `before`, and `stop()` it in `after`. */
export async function startServer(opts = {}) {
  const s = new LoyServer(opts);
  await s.init();
  await s.start();
  return s;
}

// ---------- Apple Wallet ----------
/** The pass type id of the development certificates (`loy certs dev`'s default). */
export const APPLE_PASS_TYPE_ID = 'pass.dev.loy.demo';
let appleCertsDir = null;

/**
 * The directory of the development certificates (ca.pem, wwdr.pem, pass.pem, pass.key, ...),
 * made by `loy certs dev` once per test process and removed when it exits. Passes verify against
 * its ca.pem: openssl cms -verify -binary -inform DER -in signature -content manifest.json
 * -CAfile <dir>/ca.pem -purpose any.
 */
export function appleCerts() {
  if (!appleCertsDir) {
    appleCertsDir = (async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'loy-certs-'));
      const r = await run(LOY_BIN, ['certs', 'dev', '--out', dir]);
      if (r.code !== 0) throw new Error(`loy certs dev exited ${r.code}: ${r.stderr}`);
      if (!KEEP) process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
      return dir;
    })();
  }
  return appleCertsDir;
}

/** Takes a .pkpass (a zip) apart: { files: { name: Buffer }, passJson }. */
export function unpackPkpass(buf) {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const files = {};
      zip.on('error', reject);
      zip.on('entry', (entry) => {
        if (/\/$/.test(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks = [];
          stream.on('data', (d) => chunks.push(d));
          stream.on('error', reject);
          stream.on('end', () => {
            files[entry.fileName] = Buffer.concat(chunks);
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => {
        try {
          resolve({ files, passJson: files['pass.json'] ? JSON.parse(files['pass.json'].toString('utf8')) : undefined });
        } catch (e) {
          reject(e);
        }
      });
      zip.readEntry();
    });
  });
}

// ---------- data helpers ----------
let phoneSeq = crypto.randomInt(1000000, 8000000);
/** A fresh Russian mobile number in E.164. */
export function newPhone() {
  phoneSeq += 1;
  return `+7912${String(phoneSeq).padStart(7, '0')}`;
}

/** Luhn check digit for a string of digits. */
export function luhnDigit(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

export function luhnValid(num) {
  return luhnDigit(num.slice(0, -1)) === num.slice(-1);
}

export async function createCustomer(client, fields = {}) {
  const body = { name: 'Test Customer', phone: newPhone(), ...fields };
  const res = await client.post('/api/v1/customers', body);
  if (res.status !== 201) throw new Error(`create customer: ${res.status} ${res.text}`);
  return res.body;
}

/** All transactions of a customer (walks the cursor). */
export async function allTransactions(client, customerId) {
  const items = [];
  let cursor = null;
  for (let guard = 0; guard < 10000; guard++) {
    const q = new URLSearchParams({ limit: '100' });
    if (cursor) q.set('cursor', cursor);
    const res = await client.get(`/api/v1/customers/${customerId}/transactions?${q}`);
    if (res.status !== 200) throw new Error(`list transactions: ${res.status} ${res.text}`);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    if (!cursor) break;
  }
  return items;
}

/** Balance and ledger of a customer, to compare before/after a request that must change nothing. */
export async function snapshot(client, customerId) {
  const res = await client.get(`/api/v1/customers/${customerId}`);
  if (res.status !== 200) throw new Error(`get customer: ${res.status} ${res.text}`);
  const txs = await allTransactions(client, customerId);
  return { customer: res.body, txIds: txs.map((t) => t.id).sort((a, b) => a - b) };
}

export { Client };
export { expectError } from './lib/client.js';
