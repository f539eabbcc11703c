// HTTP client for the tests. Keeps the session cookie and CSRF token (or a bearer token) and checks
// EVERY response against docs/openapi.yaml, failing the test on any mismatch.
import http from 'node:http';
import assert from 'node:assert/strict';
import { checkResponse } from './openapi.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class Client {
  constructor(server) {
    this.server = server;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    this.cookie = null; // value of loy_session
    this.csrfToken = null;
    this.bearer = null;
    this.lastSetCookie = null;
  }

  resetConnections() {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  close() {
    this.agent.destroy();
  }

  /**
   * Sends a request. opts:
   *  body        object/array/number/boolean/null → JSON; string or Buffer → sent as is
   *  contentType default application/json when there is a body; null to send none
   *  headers     extra headers (override the defaults; a value of null removes one)
   *  auth        false to send no cookie/bearer
   *  csrf        false to omit X-CSRF-Token; a string to send that one
   *  validate    false only for requests whose response the document cannot describe (never used for API paths)
   *  chunked     true to send the body without Content-Length
   */
  async request(method, path, opts = {}) {
    method = method.toUpperCase();
    const headers = { Accept: 'application/json' };
    let payload;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body) || typeof opts.body === 'string') payload = Buffer.from(opts.body);
      else payload = Buffer.from(JSON.stringify(opts.body));
      const ct = opts.contentType === undefined ? 'application/json' : opts.contentType;
      if (ct !== null) headers['Content-Type'] = ct;
    }
    if (opts.auth !== false) {
      if (this.bearer) headers.Authorization = `Bearer ${this.bearer}`;
      if (this.cookie) {
        headers.Cookie = `loy_session=${this.cookie}`;
        if (UNSAFE.has(method) && opts.csrf !== false) {
          const tok = typeof opts.csrf === 'string' ? opts.csrf : this.csrfToken;
          if (tok) headers['X-CSRF-Token'] = tok;
        }
      }
    }
    for (const [k, v] of Object.entries(opts.headers || {})) {
      const existing = Object.keys(headers).find((h) => h.toLowerCase() === k.toLowerCase());
      if (existing) delete headers[existing];
      if (v !== null && v !== undefined) headers[k] = v;
    }
    if (payload && !opts.chunked) headers['Content-Length'] = String(payload.length);
    else if (!payload && UNSAFE.has(method)) headers['Content-Length'] = '0';

    const res = await this._send(method, path, headers, payload, opts);
    res.method = method;
    res.path = path;
    if (opts.validate !== false) {
      const problems = checkResponse(method, path, res);
      if (problems.length) {
        assert.fail(`response does not match docs/openapi.yaml\n  ${method} ${path} → ${res.status}\n  ${problems.join('\n  ')}\n  body: ${res.text.slice(0, 600)}`);
      }
    }
    const sc = res.headers['set-cookie'];
    if (sc) {
      this.lastSetCookie = sc;
      for (const c of sc) {
        const m = /^loy_session=([^;]*)/.exec(c);
        if (m) this.cookie = m[1] || null;
      }
    }
    return res;
  }

  _send(method, path, headers, payload, opts) {
    const { hostname, port } = new URL(this.server.url);
    return new Promise((resolve, reject) => {
      let response = null;
      const chunks = [];
      const req = http.request({ host: hostname, port, method, path, headers, agent: this.agent, timeout: opts.timeout ?? 30000 }, (res) => {
        response = res;
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => done());
        res.on('error', () => done());
      });
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        const out = { status: response.statusCode, headers: response.headers, text, raw: buf, body: undefined, bodyError: null };
        if (text.length && /^application\/json\b/i.test(response.headers['content-type'] || '')) {
          try { out.body = JSON.parse(text); } catch (e) { out.bodyError = e.message; }
        }
        resolve(out);
      };
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.on('error', (e) => {
        if (response) done(); // the server answered early (e.g. 413) and closed while we were sending
        else reject(e);
      });
      if (payload && opts.chunked) {
        const step = 16384;
        for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
        req.end();
      } else req.end(payload);
    });
  }

  get(path, opts) { return this.request('GET', path, opts); }
  post(path, body, opts = {}) { return this.request('POST', path, { ...opts, body }); }
  put(path, body, opts = {}) { return this.request('PUT', path, { ...opts, body }); }
  patch(path, body, opts = {}) { return this.request('PATCH', path, { ...opts, body }); }
  del(path, opts) { return this.request('DELETE', path, opts); }

  async login(email, password) {
    const res = await this.post('/api/v1/auth/login', { email, password }, { auth: false });
    assert.equal(res.status, 200, `login ${email}: ${res.status} ${res.text}`);
    assert.ok(this.cookie, 'login set no loy_session cookie');
    this.csrfToken = res.body.csrfToken;
    this.user = res.body.user;
    return res;
  }

  async useApiKey(key) {
    const res = await this.post('/api/v1/auth/token', { apiKey: key }, { auth: false });
    assert.equal(res.status, 200, `token exchange: ${res.status} ${res.text}`);
    this.bearer = res.body.accessToken;
    this.key = key;
    return res;
  }
}

/** Asserts an error response: status, error.code and (when given) error.field. */
export function expectError(res, status, code, field) {
  const ctx = `${res.status} ${res.text.slice(0, 400)} (${res.method} ${res.path?.slice(0, 120)})`;
  assert.equal(res.status, status, `expected ${status} ${code}${field ? ` (field ${field})` : ''}, got ${ctx}`);
  if (code) {
    const codes = Array.isArray(code) ? code : [code];
    assert.ok(codes.includes(res.body?.error?.code), `expected error.code ${codes.join('|')}, got ${ctx}`);
  }
  if (field !== undefined) {
    // A nested field may be named by its dotted path or with an index: `design.labelColor`, `tags[1]`.
    const got = res.body?.error?.field;
    const ok = got === field || (typeof got === 'string' && (got.startsWith(`${field}.`) || got.startsWith(`${field}[`) || got.endsWith(`.${field}`)));
    assert.ok(ok, `expected error.field ${field}, got ${ctx}`);
  }
}
