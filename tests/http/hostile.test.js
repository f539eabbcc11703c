// Hostile input for every endpoint: each gets the right status and changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, snapshot, newPhone, expectError } from './harness.js';

let srv, owner, fx;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  const cust = await createCustomer(owner, { name: 'Hostile Target' });
  const tx = (await owner.post(`/api/v1/customers/${cust.id}/transactions`, { type: 'credit', amount: 10 })).body;
  // Templates get their own subtests; the other endpoints do not depend on them.
  let tpl = null;
  try {
    const r = await owner.post('/api/v1/templates', { name: 'Hostile Template' });
    if (r.status === 201) tpl = r.body;
  } catch { /* reported by the template subtests */ }
  const user = (await owner.post('/api/v1/users', { email: 'hostile-user@test.loy', password: 'password-123', role: 'viewer' })).body;
  const key = (await owner.post('/api/v1/apikeys', { name: 'hostile key', role: 'viewer' })).body;
  fx = { cust, tx, tpl, user, key };
});
after(async () => { await srv?.stop(); });

// Every route that takes a body: [method, path(fx), sample valid body, required field or null, [wrong-typed body, field], name-like field]
const endpoints = () => [
  ['POST', '/api/v1/register', { name: 'N', phone: newPhone(), consent: true }, 'name', [{ name: ['N'], phone: newPhone(), consent: true }, 'name'], 'name'],
  ['POST', '/api/v1/auth/login', { email: 'nobody@test.loy', password: 'x' }, 'email', [{ email: 1, password: 'x' }, 'email'], null],
  ['POST', '/api/v1/auth/token', { apiKey: 'loy_x' }, 'apiKey', [{ apiKey: {} }, 'apiKey'], null],
  ['POST', '/api/v1/customers', { name: 'N', phone: newPhone() }, 'name', [{ name: 'N', phone: 79123456789 }, 'phone'], 'name'],
  ['PATCH', `/api/v1/customers/${fx.cust.id}`, { notes: 'x' }, null, [{ status: true }, 'status'], 'name'],
  ['POST', `/api/v1/customers/${fx.cust.id}/transactions`, { type: 'credit', amount: 1 }, 'type', [{ type: 'credit', amount: '1' }, 'amount'], 'description'],
  ['POST', `/api/v1/transactions/${fx.tx.id}/reverse`, {}, null, [{ description: 5 }, 'description'], 'description'],
  ['POST', '/api/v1/pos/purchase', { card: fx.cust.cardNumber, purchaseAmount: 100, orderId: 'h' }, 'purchaseAmount', [{ card: fx.cust.cardNumber, purchaseAmount: 100, orderId: 5 }, 'orderId'], 'orderId'],
  ['POST', '/api/v1/templates', { name: 'T' }, 'name', [{ name: 'T', settings: { showBalance: 'true' } }, 'showBalance'], 'name'],
  ['PATCH', `/api/v1/templates/${fx.tpl?.id ?? 1}`, { name: 'T' }, null, [{ name: false }, 'name'], 'name'],
  ['PUT', '/api/v1/settings', { businessName: 'B' }, null, [{ businessName: 7 }, 'businessName'], 'businessName'],
  ['POST', '/api/v1/users', { email: 'n@test.loy', password: 'password-123', role: 'viewer' }, 'email', [{ email: 'n@test.loy', password: 12345678, role: 'viewer' }, 'password'], 'name'],
  ['PATCH', `/api/v1/users/${fx.user.id}`, { name: 'U' }, null, [{ disabled: 'no' }, 'disabled'], 'name'],
  ['POST', '/api/v1/apikeys', { name: 'K', role: 'viewer' }, 'name', [{ name: 'K', role: 1 }, 'role'], 'name'],
];

async function state() {
  const customers = [];
  let cursor = null;
  do {
    const r = await owner.get(`/api/v1/customers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    customers.push(...r.body.items);
    cursor = r.body.nextCursor;
  } while (cursor);
  return {
    customers,
    target: await snapshot(owner, fx.cust.id),
    settings: (await owner.get('/api/v1/settings')).body,
    templates: fx.tpl ? (await owner.get('/api/v1/templates')).body : null,
    users: (await owner.get('/api/v1/users')).body.items.map(({ lastLoginAt, ...u }) => u),
    keys: (await owner.get('/api/v1/apikeys')).body.items.map(({ lastUsedAt, ...k }) => k),
  };
}

/** Runs fn for every body-taking endpoint as its own subtest, so one broken route does not hide the others. */
async function perEndpoint(t, fn) {
  for (const ep of endpoints()) {
    await t.test(`${ep[0]} ${ep[1]}`, async () => {
      if (ep[1].startsWith('/api/v1/templates') && !fx.tpl) assert.fail('POST /api/v1/templates did not create the fixture template');
      await fn(...ep);
    });
  }
}

let baseline;
test('baseline', async () => { baseline = await state(); });

test('malformed JSON, non-objects, invalid UTF-8, duplicate keys, deep nesting → 400 malformed_json', async (t) => {
  const bodies = [
    '{"name":', '{name: "x"}', "{'name':'x'}", '{"a":1,}', 'nul', '', ' ', '{"a":1}{"b":2}', '{"a":"\\x"}', '{"a":"\\ud800"}',
    '[]', '[{"name":"x"}]', '42', '"string"', 'null', 'true',
    Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // {"n":"<ff fe>"}
  ];
  await perEndpoint(t, async (method, p) => {
    for (const b of bodies) {
      // An empty body is fine where the body is optional (reverse).
      if (p.endsWith('/reverse') && (b === '' || b === ' ')) continue;
      const res = await owner.request(method, p, { body: b });
      expectError(res, 400, 'malformed_json');
    }
  });
});

test('deep nesting (within the smallest body cap) → 400, and the server survives', async (t) => {
  await perEndpoint(t, async (method, p) => {
    for (const b of ['['.repeat(1900) + ']'.repeat(1900), '{"a":'.repeat(650) + '1' + '}'.repeat(650), '{"a":' + '['.repeat(1800) + ']'.repeat(1800) + '}']) {
      expectError(await owner.request(method, p, { body: b }), 400, ['malformed_json', 'validation_failed']);
    }
  });
  assert.equal((await owner.get('/api/v1/customers?limit=1')).status, 200);
});

test('duplicate keys → 400', async (t) => {
  await perEndpoint(t, async (method, p, valid) => {
    const k = Object.keys(valid)[0];
    if (!k) return;
    const raw = JSON.stringify(valid).replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(valid[k])},`);
    const res = await owner.request(method, p, { body: raw });
    expectError(res, 400, ['malformed_json', 'validation_failed']);
  });
});

test('wrong Content-Type on a body → 415', async (t) => {
  await perEndpoint(t, async (method, p, valid) => {
    const body = JSON.stringify(valid);
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'json', null]) {
      expectError(await owner.request(method, p, { body, contentType: ct }), 415, 'unsupported_media_type');
    }
  });
});

test('oversized bodies (1 MiB) → 413, with Content-Length and chunked', async (t) => {
  const big = JSON.stringify({ name: 'x'.repeat(1024 * 1024) });
  await perEndpoint(t, async (method, p) => {
    expectError(await owner.request(method, p, { body: big }), 413, 'payload_too_large');
    expectError(await owner.request(method, p, { body: big, chunked: true }), 413, 'payload_too_large');
  });
  // The server is still fine afterwards.
  assert.equal((await owner.get('/api/v1/customers?limit=1')).status, 200);
});

test('unknown fields → 400 naming the field', async (t) => {
  await perEndpoint(t, async (method, p, valid) => {
    expectError(await owner.request(method, p, { body: { ...valid, zzUnknown: 1 } }), 400, 'validation_failed', 'zzUnknown');
    expectError(await owner.request(method, p, { body: { ...valid, __proto__x: {} } }), 400, 'validation_failed', '__proto__x');
  });
});

test('wrong types → 400 naming the field', async (t) => {
  await perEndpoint(t, async (method, p, _v, _r, [body, field]) => {
    expectError(await owner.request(method, p, { body }), 400, 'validation_failed', field);
  });
});

test('missing required fields → 400 naming one of them', async (t) => {
  await perEndpoint(t, async (method, p, _v, required) => {
    if (!required) return;
    const res = await owner.request(method, p, { body: {} });
    expectError(res, 400, 'validation_failed');
    assert.ok(typeof res.body.error.field === 'string' && res.body.error.field.length > 0, `${p}: a field is named`);
  });
});

test('oversized fields (> 200 chars) → 400 naming the field', async (t) => {
  await perEndpoint(t, async (method, p, valid, _r, _w, nameField) => {
    if (!nameField) return;
    const len = nameField === 'description' ? 501 : nameField === 'orderId' ? 129 : 201;
    expectError(await owner.request(method, p, { body: { ...valid, [nameField]: 'я'.repeat(len) } }), 400, 'validation_failed', nameField);
  });
});

test('NUL bytes and control characters in strings → 400', async (t) => {
  await perEndpoint(t, async (method, p, valid, _r, _w, nameField) => {
    if (!nameField) return;
    // A literal NUL may already be refused by the JSON parser.
    expectError(await owner.request(method, p, { body: { ...valid, [nameField]: 'a\u0000b' } }), 400, ['validation_failed', 'malformed_json']);
    for (const ch of ['\u0001', '\u0007', '\u001b', '\u007f']) {
      expectError(await owner.request(method, p, { body: { ...valid, [nameField]: `a${ch}b` } }), 400, 'validation_failed', nameField);
    }
    if (nameField !== 'description') {
      expectError(await owner.request(method, p, { body: { ...valid, [nameField]: 'two\nlines' } }), 400, 'validation_failed', nameField);
    }
  });
  // Raw (unescaped) control characters inside a JSON string are not JSON at all.
  expectError(await owner.request('POST', '/api/v1/customers', { body: `{"name":"a\u0001b","phone":"${newPhone()}"}` }), 400, 'malformed_json');
});

test('path ids that are not positive int64 integers → 404', async () => {
  const bad = ['abc', '-1', '0', '1.5', '1e3', '+1', '0x10', ' 1', '99999999999999999999', '9223372036854775808', '18446744073709551617', '1%00', '..', '%2e%2e', '.', '1;2', `${fx.cust.id}abc`];
  const templates = [
    ['GET', (id) => `/api/v1/customers/${id}`], ['PATCH', (id) => `/api/v1/customers/${id}`], ['DELETE', (id) => `/api/v1/customers/${id}`],
    ['GET', (id) => `/api/v1/customers/${id}/transactions`], ['POST', (id) => `/api/v1/customers/${id}/transactions`],
    ['POST', (id) => `/api/v1/transactions/${id}/reverse`], ['GET', (id) => `/api/v1/templates/${id}`], ['DELETE', (id) => `/api/v1/templates/${id}`],
    ['GET', (id) => `/api/v1/users/${id}`], ['DELETE', (id) => `/api/v1/users/${id}`], ['DELETE', (id) => `/api/v1/apikeys/${id}`],
  ];
  for (const [m, p] of templates) {
    for (const id of bad) {
      const body = m === 'POST' || m === 'PATCH' ? { type: 'credit', amount: 1 } : undefined;
      const res = await owner.request(m, p(id).replace(/ /g, '%20'), { body });
      if (res.status === 400) assert.fail(`${m} ${p(id)}: 400 instead of 404 (${res.text})`);
      expectError(res, 404, 'not_found');
    }
  }
});

test('dot segments are not resolved: /customers/../settings etc. → 404', async () => {
  const paths = [
    '/api/v1/customers/../settings', '/api/v1/customers/%2e%2e/settings', '/api/v1/customers/1/../../settings',
    '/api/v1/../v1/settings', '/api/v1/./settings', '/api/v1//settings', '/api/v1/settings/', '/api/v1/settings/..',
    `/api/v1/customers/${fx.cust.id}/../${fx.cust.id}`, '/api/v1/cards/../users',
  ];
  for (const p of paths) expectError(await owner.get(p), 404, 'not_found');
});

test('unknown paths → 404, wrong methods → 405 with Allow', async () => {
  for (const p of ['/api/v1/nope', '/api/v2/customers', '/api/v1/customer', '/API/V1/CUSTOMERS', '/nope', '/api/v1/customers/1/nope']) {
    expectError(await owner.get(p), 404, 'not_found');
  }
  const wrong = [['PUT', '/api/v1/customers'], ['DELETE', '/api/v1/settings'], ['POST', `/api/v1/customers/${fx.cust.id}`],
    ['GET', '/api/v1/pos/purchase'], ['GET', '/api/v1/auth/login'], ['PATCH', `/api/v1/apikeys/${fx.key.id}`], ['POST', '/healthz']];
  for (const [m, p] of wrong) {
    const res = await owner.request(m, p, { body: m === 'GET' ? undefined : {} });
    expectError(res, 405, 'method_not_allowed');
    assert.ok(res.headers.allow, `${m} ${p}: Allow header`);
  }
});

test('query strings: invalid UTF-8 and oversized values → 400', async () => {
  expectError(await owner.get('/api/v1/customers?query=%C3'), 400, 'validation_failed', 'query');
  expectError(await owner.get(`/api/v1/customers?query=${'a'.repeat(5000)}`), 400, 'validation_failed', 'query');
});

test('nothing above changed any data', async () => {
  assert.deepEqual(await state(), baseline);
  const v = await srv.verify();
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('application/json with a charset parameter is accepted', async () => {
  const res = await owner.request('POST', '/api/v1/customers', { body: { name: 'Charset', phone: newPhone() }, contentType: 'application/json; charset=utf-8' });
  assert.equal(res.status, 201, res.text);
  const res2 = await owner.request('POST', '/api/v1/customers', { body: { name: 'Charset Caps', phone: newPhone() }, contentType: 'Application/JSON;charset=UTF-8' });
  assert.equal(res2.status, 201, res2.text);
});

test('the server survives a flood of garbage on raw sockets', async () => {
  const net = await import('node:net');
  const { port } = new URL(srv.url);
  const garbage = ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 'POST /api/v1/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzzz\r\n', '\x00\x01\x02\x03'.repeat(1000), `GET /${'a'.repeat(100000)} HTTP/1.1\r\nHost: x\r\n\r\n`];
  await Promise.all(garbage.map((g) => new Promise((resolve) => {
    const s = net.connect(Number(port), '127.0.0.1', () => { s.end(g); });
    s.on('error', resolve);
    s.on('close', resolve);
    s.setTimeout(3000, () => s.destroy());
    s.resume();
  })));
  assert.equal((await owner.get('/api/v1/customers?limit=1')).status, 200);
});
