// Customers: CRUD, search, filters, cursor pagination.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, newPhone, luhnValid, allTransactions, expectError } from './harness.js';

let srv, owner, cashier;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  cashier = await srv.apiKeyClient('cashier');
});
after(async () => { await srv?.stop(); });

async function walk(client, query = '', limit = 7) {
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const q = new URLSearchParams(query);
    q.set('limit', String(limit));
    if (cursor) q.set('cursor', cursor);
    const r = await client.get(`/api/v1/customers?${q}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.items.length <= limit);
    if (r.body.nextCursor) assert.equal(r.body.items.length, limit, 'only the last page is short');
    seen.push(...r.body.items);
    cursor = r.body.nextCursor;
    pages++;
    assert.ok(pages < 1000, 'pagination terminates');
  } while (cursor);
  return seen;
}

test('create: 201 with every field, card number, welcome bonus applied', async () => {
  const res = await owner.post('/api/v1/customers', {
    name: '  Иван Иванов  ', phone: '+7 (915) 000-11-22', email: 'ivan@example.com', birthday: '1985-12-31',
    tags: ['vip', 'coffee'], notes: 'likes oat milk\nno sugar', status: 'active',
  });
  assert.equal(res.status, 201, res.text);
  const c = res.body;
  assert.equal(c.name, 'Иван Иванов', 'the name is trimmed');
  assert.equal(c.phone, '+79150001122');
  assert.equal(c.email, 'ivan@example.com');
  assert.equal(c.birthday, '1985-12-31');
  assert.deepEqual([...c.tags].sort(), ['coffee', 'vip']);
  assert.equal(c.notes, 'likes oat milk\nno sugar');
  assert.equal(c.source, 'admin');
  assert.equal(c.consent, null);
  assert.equal(c.balance, 100);
  assert.ok(luhnValid(c.cardNumber));
  const txs = await allTransactions(owner, c.id);
  assert.deepEqual(txs.map((t) => [t.type, t.amount, t.balanceAfter, t.channel]), [['welcome', 100, 100, 'admin']]);
  const got = await owner.get(`/api/v1/customers/${c.id}`);
  assert.deepEqual(got.body, c, 'GET returns what POST returned');
});

test('create: card numbers are unique and Luhn-valid', async () => {
  const cards = new Set();
  for (let i = 0; i < 15; i++) {
    const c = await createCustomer(cashier, { name: `Card ${i}` });
    assert.ok(luhnValid(c.cardNumber), c.cardNumber);
    assert.ok(!cards.has(c.cardNumber), 'unique');
    cards.add(c.cardNumber);
  }
});

test('create: validation → 400 with field; duplicates → 409; nothing created', async () => {
  const phone = newPhone();
  const cases = [
    [{ phone }, 'name'],
    [{ name: 'X' }, 'phone'],
    [{ name: 'X', phone: 'nope' }, 'phone'],
    [{ name: 'X', phone, email: 'nope' }, 'email'],
    [{ name: 'X', phone, birthday: '2001-02-29' }, 'birthday'],
    [{ name: 'X', phone, status: 'deleted' }, 'status'],
    [{ name: 'X', phone, tags: 'vip' }, 'tags'],
    [{ name: 'X', phone, tags: ['ok', 5] }, 'tags'],
    [{ name: 'X', phone, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
    [{ name: 'X', phone, tags: ['x'.repeat(51)] }, 'tags'],
    [{ name: 'X', phone, notes: 'n'.repeat(2001) }, 'notes'],
    [{ name: 'X', phone, notes: 7 }, 'notes'],
    [{ name: 'x'.repeat(201), phone }, 'name'],
    [{ name: 123, phone }, 'name'],
    [{ name: 'X', phone, source: 'web' }, 'source'],
    [{ name: 'X', phone, balance: 5000 }, 'balance'],
    [{ name: 'X', phone, cardNumber: '000000000' }, 'cardNumber'],
  ];
  for (const [body, field] of cases) {
    expectError(await owner.post('/api/v1/customers', body), 400, 'validation_failed', field);
  }
  const r = await owner.get(`/api/v1/customers?query=${encodeURIComponent(phone)}`);
  assert.deepEqual(r.body.items, []);

  const a = await createCustomer(owner, { name: 'Dup Source', email: 'dup@example.com' });
  expectError(await owner.post('/api/v1/customers', { name: 'Dup', phone: a.phone }), 409, 'conflict', 'phone');
  expectError(await owner.post('/api/v1/customers', { name: 'Dup', phone: newPhone(), email: 'dup@example.com' }), 409, 'conflict', 'email');
});

test('get: unknown id → 404', async () => {
  expectError(await owner.get('/api/v1/customers/999999999'), 404, 'not_found');
});

test('patch: changes only the keys given; null clears email and birthday', async () => {
  const c = await createCustomer(owner, { name: 'Patch Me', email: 'patch@example.com', birthday: '1970-01-01', tags: ['a'], notes: 'n' });
  const r1 = await owner.patch(`/api/v1/customers/${c.id}`, { name: 'Patched', status: 'inactive', tags: ['b', 'c'] });
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.body.name, 'Patched');
  assert.equal(r1.body.status, 'inactive');
  assert.deepEqual([...r1.body.tags].sort(), ['b', 'c']);
  assert.equal(r1.body.email, 'patch@example.com');
  assert.equal(r1.body.notes, 'n');
  assert.equal(r1.body.balance, c.balance);
  assert.equal(r1.body.cardNumber, c.cardNumber);
  const r2 = await owner.patch(`/api/v1/customers/${c.id}`, { email: null, birthday: null });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.body.email, null);
  assert.equal(r2.body.birthday, null);
  assert.equal(r2.body.name, 'Patched');
  const r3 = await owner.patch(`/api/v1/customers/${c.id}`, { phone: '8 915 777 66 55' });
  assert.equal(r3.status, 200, r3.text);
  assert.equal(r3.body.phone, '+79157776655');
  assert.deepEqual((await owner.get(`/api/v1/customers/${c.id}`)).body, r3.body);
});

test('patch: bad input → 400 with field, taken phone → 409, unknown → 404; nothing changes', async () => {
  const c = await createCustomer(owner, { name: 'Stable', email: 'stable@example.com' });
  const other = await createCustomer(owner, { name: 'Other' });
  const cases = [
    [{ name: null }, 'name'], [{ name: '' }, 'name'], [{ phone: null }, 'phone'], [{ phone: '12' }, 'phone'],
    [{ email: 'bad' }, 'email'], [{ status: 'gone' }, 'status'], [{ balance: 1 }, 'balance'],
    [{ cardNumber: other.cardNumber }, 'cardNumber'], [{ tags: null }, 'tags'], [{ id: 5 }, 'id'],
  ];
  for (const [body, field] of cases) {
    expectError(await owner.patch(`/api/v1/customers/${c.id}`, body), 400, 'validation_failed', field);
  }
  expectError(await owner.patch(`/api/v1/customers/${c.id}`, { phone: other.phone }), 409, 'conflict', 'phone');
  expectError(await owner.patch('/api/v1/customers/999999999', { name: 'Nobody' }), 404, 'not_found');
  assert.deepEqual((await owner.get(`/api/v1/customers/${c.id}`)).body, c);
});

test('delete: 204, then 404 everywhere, gone from lists, phone free again, ledger still verifies', async () => {
  const c = await createCustomer(owner, { name: 'Erase Me', email: 'erase@example.com' });
  await owner.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 25 });
  const res = await owner.del(`/api/v1/customers/${c.id}`);
  assert.equal(res.status, 204);
  expectError(await owner.get(`/api/v1/customers/${c.id}`), 404, 'not_found');
  expectError(await owner.get(`/api/v1/customers/${c.id}/transactions`), 404, 'not_found');
  expectError(await owner.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 1 }), 404, 'not_found');
  expectError(await owner.get(`/api/v1/cards/${c.cardNumber}`), 404, 'not_found');
  expectError(await owner.del(`/api/v1/customers/${c.id}`), 404, 'not_found');
  for (const q of ['Erase Me', c.phone, 'erase@example.com', c.cardNumber]) {
    const r = await owner.get(`/api/v1/customers?query=${encodeURIComponent(q)}`);
    assert.deepEqual(r.body.items, [], `query ${q}`);
  }
  const again = await owner.post('/api/v1/customers', { name: 'New Owner Of Phone', phone: c.phone, email: 'erase@example.com' });
  assert.equal(again.status, 201, `the erased phone/email are free: ${again.text}`);
  const v = await srv.verify();
  assert.equal(v.code, 0, `loy verify: ${v.stdout} ${v.stderr}`);
});

test('search by name, phone (any format), email and card number', async () => {
  const c = await createCustomer(owner, { name: 'Зинаида Searchable', phone: '+79161234500', email: 'zina.search@example.com', tags: ['findme'] });
  const noise = await createCustomer(owner, { name: 'Noise Person', email: 'noise@example.com' });
  const queries = ['Зинаида', 'searchable', 'SEARCHABLE', '+79161234500', '79161234500', '9161234500', '8 (916) 123-45-00', 'zina.search@example.com', 'zina.search', c.cardNumber];
  for (const q of queries) {
    const r = await owner.get(`/api/v1/customers?query=${encodeURIComponent(q)}`);
    assert.equal(r.status, 200);
    const ids = r.body.items.map((x) => x.id);
    assert.ok(ids.includes(c.id), `query ${JSON.stringify(q)} finds the customer`);
    assert.ok(!ids.includes(noise.id), `query ${JSON.stringify(q)} does not find noise`);
  }
  const none = await owner.get(`/api/v1/customers?query=${encodeURIComponent('no such customer anywhere')}`);
  assert.deepEqual(none.body, { items: [], nextCursor: null });
  // Wildcards are literal.
  const pct = await owner.get(`/api/v1/customers?query=${encodeURIComponent('%')}`);
  assert.ok(!pct.body.items.some((x) => x.id === c.id), '% is not a wildcard');
  const us = await owner.get(`/api/v1/customers?query=${encodeURIComponent('_')}`);
  assert.ok(!us.body.items.some((x) => x.id === c.id), '_ is not a wildcard');
});

test('status and tag filters, alone and combined with a query', async () => {
  const act = await createCustomer(owner, { name: 'Filter Active', tags: ['filtertag'] });
  const blk = await createCustomer(owner, { name: 'Filter Blocked', tags: ['filtertag', 'other'], status: 'blocked' });
  const ina = await createCustomer(owner, { name: 'Filter Inactive', status: 'inactive' });
  const ids = async (q) => (await walk(owner, q, 100)).map((x) => x.id);
  const blocked = await ids('status=blocked');
  assert.ok(blocked.includes(blk.id) && !blocked.includes(act.id) && !blocked.includes(ina.id));
  const all = await walk(owner, 'status=blocked', 100);
  assert.ok(all.every((x) => x.status === 'blocked'));
  const tagged = await ids('tag=filtertag');
  assert.deepEqual(tagged.sort(), [act.id, blk.id].sort());
  const both = await ids('tag=filtertag&status=active');
  assert.deepEqual(both, [act.id]);
  const q = await ids('query=Filter&status=inactive');
  assert.deepEqual(q, [ina.id]);
  expectError(await owner.get('/api/v1/customers?status=gone'), 400, 'validation_failed', 'status');
});

test('cursor pagination walks every customer exactly once, newest first', async () => {
  for (let i = 0; i < 23; i++) await createCustomer(cashier, { name: `Page ${i}`, tags: ['paged'] });
  const items = await walk(owner, 'tag=paged', 5);
  assert.equal(items.length, 23);
  assert.equal(new Set(items.map((x) => x.id)).size, 23, 'no duplicates');
  const names = items.map((x) => x.name);
  assert.deepEqual(names, Array.from({ length: 23 }, (_, i) => `Page ${22 - i}`), 'newest first');
  const everyone = await walk(owner, '', 3);
  assert.equal(new Set(everyone.map((x) => x.id)).size, everyone.length);
  const one = await walk(owner, '', 100);
  assert.deepEqual(everyone.map((x) => x.id), one.map((x) => x.id), 'page size does not change the order');
  // A customer created mid-walk does not make the walk repeat or skip older ones.
  const first = await owner.get('/api/v1/customers?tag=paged&limit=10');
  await createCustomer(cashier, { name: 'Page late', tags: ['paged'] });
  const second = await owner.get(`/api/v1/customers?tag=paged&limit=100&cursor=${encodeURIComponent(first.body.nextCursor)}`);
  assert.deepEqual([...first.body.items, ...second.body.items].map((x) => x.name), names);
});

test('limit bounds and bad cursors → 400', async () => {
  for (const limit of ['0', '101', '-1', 'abc', '1.5', '99999999999999999999', '']) {
    expectError(await owner.get(`/api/v1/customers?limit=${limit}`), 400, 'validation_failed', 'limit');
  }
  assert.equal((await owner.get('/api/v1/customers?limit=1')).status, 200);
  assert.equal((await owner.get('/api/v1/customers?limit=100')).status, 200);
  const dflt = await owner.get('/api/v1/customers');
  assert.ok(dflt.body.items.length <= 50);
  for (const cursor of ['garbage', 'AAAA', '%00', 'x'.repeat(300)]) {
    expectError(await owner.get(`/api/v1/customers?cursor=${cursor}`), 400, 'validation_failed', 'cursor');
  }
  expectError(await owner.get(`/api/v1/customers?query=${'q'.repeat(201)}`), 400, 'validation_failed', 'query');
});
