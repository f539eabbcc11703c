// Templates, settings, staff users and API keys: CRUD, validation, role checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createCustomer, OWNER_EMAIL, expectError } from './harness.js';

let srv, owner, admin, cashier, viewer;
before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  admin = await srv.staff('admin');
  cashier = await srv.apiKeyClient('cashier');
  viewer = await srv.apiKeyClient('viewer');
});
after(async () => { await srv?.stop(); });

// ---------- templates ----------
test('templates: create with defaults, full create, get, list', async () => {
  const min = await admin.post('/api/v1/templates', { name: 'Minimal' });
  assert.equal(min.status, 201, min.text);
  const settings = (await owner.get('/api/v1/settings')).body;
  assert.equal(min.body.content.organizationName, settings.businessName, 'organizationName defaults to the business name');
  assert.equal(typeof min.body.settings.showBalance, 'boolean');
  const full = await owner.post('/api/v1/templates', {
    name: 'Gold', isDefault: true,
    design: { backgroundColor: '#112233', foregroundColor: '#ffffff', labelColor: '#AABBCC' },
    content: { organizationName: 'Coffee Co', description: 'Gold card', programName: 'Beans', logoText: 'CC', termsUrl: 'https://example.com/terms' },
    settings: { showBalance: true, showQRCode: false },
  });
  assert.equal(full.status, 201, full.text);
  const t = full.body;
  assert.equal(t.isDefault, true);
  assert.deepEqual(t.design, { backgroundColor: '#112233', foregroundColor: '#ffffff', labelColor: '#AABBCC' });
  assert.deepEqual(t.content, { organizationName: 'Coffee Co', description: 'Gold card', programName: 'Beans', logoText: 'CC', termsUrl: 'https://example.com/terms' });
  assert.deepEqual(t.settings, { showBalance: true, showQRCode: false });
  assert.deepEqual((await viewer.get(`/api/v1/templates/${t.id}`)).body, t);
  const list = (await viewer.get('/api/v1/templates')).body.items;
  assert.ok(list.some((x) => x.id === t.id) && list.some((x) => x.id === min.body.id));
  assert.equal(list.filter((x) => x.isDefault).length, 1, 'exactly one default');
  assert.equal(list.find((x) => x.isDefault).id, t.id);
});

test('templates: patch replaces only the keys given, nested too', async () => {
  const t = (await owner.post('/api/v1/templates', {
    name: 'Patchable', design: { backgroundColor: '#000000', foregroundColor: '#111111', labelColor: '#222222' },
    content: { organizationName: 'Org', description: 'd', programName: 'p', logoText: 'l', termsUrl: null },
  })).body;
  const r = await admin.patch(`/api/v1/templates/${t.id}`, { design: { labelColor: '#333333' }, content: { termsUrl: 'http://example.com/t' } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.design, { backgroundColor: '#000000', foregroundColor: '#111111', labelColor: '#333333' });
  assert.equal(r.body.content.termsUrl, 'http://example.com/t');
  assert.equal(r.body.content.organizationName, 'Org');
  assert.equal(r.body.name, 'Patchable');
  // The rules text for the back of the card: up to 2 000 characters, line breaks allowed.
  const rules = `Баллы сгорают через год.\n${'п'.repeat(1975)}`;
  const tt = await admin.patch(`/api/v1/templates/${t.id}`, { content: { termsText: rules } });
  assert.equal(tt.status, 200, tt.text);
  assert.equal(tt.body.content.termsText, rules);
  expectError(await admin.patch(`/api/v1/templates/${t.id}`, { content: { termsText: 'x'.repeat(2001) } }), 400, 'validation_failed', 'content.termsText');
  expectError(await admin.patch(`/api/v1/templates/${t.id}`, { content: { termsText: 5 } }), 400, 'validation_failed', 'content.termsText');
  assert.equal((await owner.get(`/api/v1/templates/${t.id}`)).body.content.termsText, rules, 'refusals change nothing');
  assert.ok(Date.parse(r.body.updatedAt) >= Date.parse(t.updatedAt));
  assert.equal(r.body.createdAt, t.createdAt);
  // Moving the default flag.
  const d = await admin.patch(`/api/v1/templates/${t.id}`, { isDefault: true });
  assert.equal(d.status, 200, d.text);
  const list = (await owner.get('/api/v1/templates')).body.items;
  assert.deepEqual(list.filter((x) => x.isDefault).map((x) => x.id), [t.id]);
});

test('templates: validation → 400 with field; nothing changes', async () => {
  const t = (await owner.post('/api/v1/templates', { name: 'Valid' })).body;
  const bad = [
    [{ name: '' }, 'name'], [{ name: 'x'.repeat(201) }, 'name'], [{ name: 5 }, 'name'],
    [{ design: { backgroundColor: 'red' } }, 'backgroundColor'], [{ design: { labelColor: '#12345' } }, 'labelColor'],
    [{ design: { foregroundColor: '#gggggg' } }, 'foregroundColor'], [{ design: { shadow: '#000000' } }, 'shadow'],
    [{ content: { termsUrl: 'javascript:alert(1)' } }, 'termsUrl'], [{ content: { termsUrl: 'not a url' } }, 'termsUrl'],
    [{ content: { organizationName: '' } }, 'organizationName'], [{ settings: { showBalance: 'yes' } }, 'showBalance'],
    [{ settings: { showQRCode: 1 } }, 'showQRCode'], [{ design: 'blue' }, 'design'], [{ id: 99 }, 'id'],
    [{ createdAt: '2020-01-01T00:00:00.000Z' }, 'createdAt'], [{ isDefault: 'true' }, 'isDefault'],
  ];
  for (const [body, field] of bad) {
    const res = await admin.patch(`/api/v1/templates/${t.id}`, body);
    expectError(res, 400, 'validation_failed');
    assert.ok(res.body.error.field === field || res.body.error.field?.endsWith(`.${field}`), `field ${field}: ${res.text}`);
  }
  expectError(await admin.post('/api/v1/templates', {}), 400, 'validation_failed', 'name');
  expectError(await admin.post('/api/v1/templates', { name: 'X', design: { backgroundColor: 'nope' } }), 400, 'validation_failed');
  assert.deepEqual((await owner.get(`/api/v1/templates/${t.id}`)).body, t);
});

test('templates: delete → 204 then 404; the default cannot be deleted while others exist; roles', async () => {
  const t = (await owner.post('/api/v1/templates', { name: 'Doomed' })).body;
  expectError(await cashier.del(`/api/v1/templates/${t.id}`), 403, 'forbidden');
  expectError(await viewer.post('/api/v1/templates', { name: 'No' }), 403, 'forbidden');
  expectError(await cashier.patch(`/api/v1/templates/${t.id}`, { name: 'No' }), 403, 'forbidden');
  assert.equal((await admin.del(`/api/v1/templates/${t.id}`)).status, 204);
  expectError(await owner.get(`/api/v1/templates/${t.id}`), 404, 'not_found');
  expectError(await admin.del(`/api/v1/templates/${t.id}`), 404, 'not_found');
  expectError(await admin.patch(`/api/v1/templates/${t.id}`, { name: 'Ghost' }), 404, 'not_found');
  const list = (await owner.get('/api/v1/templates')).body.items;
  const dflt = list.find((x) => x.isDefault);
  assert.ok(dflt);
  if (list.length > 1) {
    expectError(await admin.del(`/api/v1/templates/${dflt.id}`), 422, 'rule_violation');
    assert.equal((await owner.get(`/api/v1/templates/${dflt.id}`)).status, 200);
  }
});

// ---------- settings ----------
test('settings: get, put a subset, nested keys merge, values read back', async () => {
  const s0 = await viewer.get('/api/v1/settings');
  assert.equal(s0.status, 200);
  assert.equal(s0.body.slug, 'demo');
  assert.deepEqual(s0.body.loyaltySettings, { pointsPerRuble: 500, minimumRedemption: 0, expirationDays: s0.body.loyaltySettings.expirationDays, welcomeBonus: 100 });
  const r = await admin.put('/api/v1/settings', {
    businessName: 'Кофейня №1',
    contactInfo: { phone: '8 (495) 123-45-67', email: 'hello@example.com', website: 'https://example.com', address: 'Москва, ул. Пушкина, 1' },
    loyaltySettings: { welcomeBonus: 50 },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.businessName, 'Кофейня №1');
  assert.equal(r.body.contactInfo.phone, '+74951234567');
  assert.equal(r.body.loyaltySettings.welcomeBonus, 50);
  assert.equal(r.body.loyaltySettings.pointsPerRuble, 500, 'keys not given are kept');
  assert.equal(r.body.slug, 'demo');
  const r2 = await admin.put('/api/v1/settings', { contactInfo: { website: null } });
  assert.equal(r2.status, 200, r2.text);
  assert.equal(r2.body.contactInfo.website, null);
  assert.equal(r2.body.contactInfo.email, 'hello@example.com');
  assert.deepEqual((await viewer.get('/api/v1/settings')).body, r2.body);
  // The new welcome bonus applies to new customers.
  const c = await createCustomer(cashier, { name: 'After Settings' });
  assert.equal(c.balance, 50);
  await admin.put('/api/v1/settings', { loyaltySettings: { welcomeBonus: 100 } });
});

test('settings: bounds and types → 400 with field; nothing changes', async () => {
  const before = (await owner.get('/api/v1/settings')).body;
  const bad = [
    [{ loyaltySettings: { pointsPerRuble: 10001 } }, 'pointsPerRuble'], [{ loyaltySettings: { pointsPerRuble: -1 } }, 'pointsPerRuble'],
    [{ loyaltySettings: { pointsPerRuble: 5.5 } }, 'pointsPerRuble'], [{ loyaltySettings: { pointsPerRuble: '500' } }, 'pointsPerRuble'],
    [{ loyaltySettings: { minimumRedemption: -1 } }, 'minimumRedemption'], [{ loyaltySettings: { expirationDays: 3651 } }, 'expirationDays'],
    [{ loyaltySettings: { expirationDays: -1 } }, 'expirationDays'], [{ loyaltySettings: { welcomeBonus: 100001 } }, 'welcomeBonus'],
    [{ loyaltySettings: { welcomeBonus: -5 } }, 'welcomeBonus'], [{ loyaltySettings: { tiers: [] } }, 'tiers'],
    [{ businessName: '' }, 'businessName'], [{ businessName: 'x'.repeat(201) }, 'businessName'],
    [{ contactInfo: { email: 'nope' } }, 'email'], [{ contactInfo: { phone: '12' } }, 'phone'], [{ contactInfo: { website: 'ftp://x' } }, 'website'],
    [{ slug: 'hijack' }, 'slug'], [{ updatedAt: '2020-01-01T00:00:00.000Z' }, 'updatedAt'], [{ loyaltySettings: 5 }, 'loyaltySettings'],
  ];
  for (const [body, field] of bad) {
    const res = await admin.put('/api/v1/settings', body);
    expectError(res, 400, 'validation_failed');
    assert.ok(res.body.error.field === field || res.body.error.field?.endsWith(`.${field}`), `field ${field}: ${res.text}`);
  }
  expectError(await cashier.put('/api/v1/settings', { businessName: 'No' }), 403, 'forbidden');
  assert.deepEqual((await owner.get('/api/v1/settings')).body, before);
  // The bounds themselves are accepted.
  const edge = await admin.put('/api/v1/settings', { loyaltySettings: { pointsPerRuble: 10000, expirationDays: 3650, welcomeBonus: 100000 } });
  assert.equal(edge.status, 200, edge.text);
  const zero = await admin.put('/api/v1/settings', { loyaltySettings: { pointsPerRuble: 0, expirationDays: 0, welcomeBonus: 0 } });
  assert.equal(zero.status, 200, zero.text);
  const back = await admin.put('/api/v1/settings', { loyaltySettings: before.loyaltySettings });
  assert.deepEqual(back.body.loyaltySettings, before.loyaltySettings);
});

// ---------- users ----------
test('users: create, get, list, patch, disable ends sessions, delete', async () => {
  const r = await admin.post('/api/v1/users', { email: 'till@test.loy', password: 'till-password-1', role: 'cashier', name: 'Till' });
  assert.equal(r.status, 201, r.text);
  const u = r.body;
  assert.deepEqual([u.email, u.role, u.name, u.disabled, u.lastLoginAt], ['till@test.loy', 'cashier', 'Till', false, null]);
  assert.ok(!r.text.includes('till-password-1'), 'the password is never returned');
  assert.deepEqual((await admin.get(`/api/v1/users/${u.id}`)).body, u);
  const list = (await admin.get('/api/v1/users')).body.items;
  assert.ok(list.some((x) => x.id === u.id) && list.some((x) => x.email === OWNER_EMAIL));
  assert.ok(!JSON.stringify(list).match(/password|hash/i), 'no password material in the list');

  const session = await srv.login('till@test.loy', 'till-password-1');
  assert.equal((await session.get('/api/v1/customers')).status, 200);
  const p = await admin.patch(`/api/v1/users/${u.id}`, { name: 'Till 2', role: 'viewer' });
  assert.equal(p.status, 200, p.text);
  assert.deepEqual([p.body.name, p.body.role], ['Till 2', 'viewer']);
  expectError(await session.post('/api/v1/customers', { name: 'Demoted', phone: '+79005550000' }), 403, 'forbidden');
  const dis = await admin.patch(`/api/v1/users/${u.id}`, { disabled: true });
  assert.equal(dis.status, 200, dis.text);
  assert.equal(dis.body.disabled, true);
  expectError(await session.get('/api/v1/customers'), 401, 'unauthorized');
  expectError(await srv.anon().post('/api/v1/auth/login', { email: 'till@test.loy', password: 'till-password-1' }), 401, 'unauthorized');
  await admin.patch(`/api/v1/users/${u.id}`, { disabled: false, password: 'new-password-22' });
  expectError(await srv.anon().post('/api/v1/auth/login', { email: 'till@test.loy', password: 'till-password-1' }), 401, 'unauthorized');
  const again = await srv.login('till@test.loy', 'new-password-22');
  assert.equal((await admin.del(`/api/v1/users/${u.id}`)).status, 204);
  expectError(await again.get('/api/v1/customers'), 401, 'unauthorized');
  expectError(await admin.get(`/api/v1/users/${u.id}`), 404, 'not_found');
  expectError(await admin.del(`/api/v1/users/${u.id}`), 404, 'not_found');
});

test('users: validation and conflicts → 400/409; nothing created', async () => {
  const count = async () => (await owner.get('/api/v1/users')).body.items.length;
  const n = await count();
  const bad = [
    [{ password: 'password-123', role: 'cashier' }, 'email'], [{ email: 'x@test.loy', role: 'cashier' }, 'password'],
    [{ email: 'x@test.loy', password: 'password-123' }, 'role'], [{ email: 'not-email', password: 'password-123', role: 'cashier' }, 'email'],
    [{ email: 'x@test.loy', password: 'short', role: 'cashier' }, 'password'], [{ email: 'x@test.loy', password: 'password-123', role: 'god' }, 'role'],
    [{ email: 'x@test.loy', password: 'password-123', role: 'cashier', name: 'x'.repeat(201) }, 'name'],
    [{ email: 'x@test.loy', password: 'password-123', role: 'cashier', disabled: true }, 'disabled'],
  ];
  for (const [body, field] of bad) expectError(await owner.post('/api/v1/users', body), 400, 'validation_failed', field);
  expectError(await owner.post('/api/v1/users', { email: OWNER_EMAIL, password: 'password-123', role: 'viewer' }), 409, 'conflict', 'email');
  expectError(await owner.post('/api/v1/users', { email: OWNER_EMAIL.toUpperCase(), password: 'password-123', role: 'viewer' }), 409, 'conflict', 'email');
  assert.equal(await count(), n);
  expectError(await owner.patch(`/api/v1/users/${srv.ownerId}`, { role: 'superuser' }), 400, 'validation_failed', 'role');
  expectError(await owner.patch(`/api/v1/users/${srv.ownerId}`, { email: 'new@test.loy' }), 400, 'validation_failed', 'email');
});

test('users: the last owner cannot be demoted, disabled or deleted (422)', async () => {
  expectError(await owner.patch(`/api/v1/users/${srv.ownerId}`, { role: 'admin' }), 422, 'rule_violation');
  expectError(await owner.patch(`/api/v1/users/${srv.ownerId}`, { disabled: true }), 422, 'rule_violation');
  expectError(await owner.del(`/api/v1/users/${srv.ownerId}`), 422, 'rule_violation');
  const me = await owner.get('/api/v1/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.role, 'owner');
  assert.equal(me.body.user.disabled, false);
});

test('users: cashier and viewer have no access', async () => {
  for (const c of [cashier, viewer]) {
    expectError(await c.get('/api/v1/users'), 403, 'forbidden');
    expectError(await c.post('/api/v1/users', { email: 'c@test.loy', password: 'password-123', role: 'viewer' }), 403, 'forbidden');
  }
});

// ---------- API keys ----------
test('apikeys: create shows the key once; list never does; revoke → 204', async () => {
  const r = await admin.post('/api/v1/apikeys', { name: 'CRM sync', role: 'viewer' });
  assert.equal(r.status, 201, r.text);
  const k = r.body;
  assert.deepEqual([k.name, k.role, k.lastUsedAt, k.revokedAt], ['CRM sync', 'viewer', null, null]);
  assert.ok((k.key.startsWith(k.prefix) || k.key.startsWith(`loy_${k.prefix}`)) && k.key.length >= k.prefix.length + 16);
  const list = await admin.get('/api/v1/apikeys');
  const row = list.body.items.find((x) => x.id === k.id);
  const { key, ...rest } = k;
  assert.deepEqual(row, rest);
  assert.ok(!list.text.includes(key));
  const c = srv.anon();
  await c.useApiKey(key);
  assert.equal((await c.get('/api/v1/customers')).status, 200);
  const used = (await admin.get('/api/v1/apikeys')).body.items.find((x) => x.id === k.id);
  assert.ok(used.lastUsedAt, 'lastUsedAt recorded');
  assert.equal((await admin.del(`/api/v1/apikeys/${k.id}`)).status, 204);
  expectError(await c.get('/api/v1/customers'), 401, 'unauthorized');
  expectError(await admin.del('/api/v1/apikeys/999999999'), 404, 'not_found');
});

test('apikeys: validation → 400; an API key cannot create keys above its own role', async () => {
  const n = (await owner.get('/api/v1/apikeys')).body.items.length;
  expectError(await admin.post('/api/v1/apikeys', { role: 'viewer' }), 400, 'validation_failed', 'name');
  expectError(await admin.post('/api/v1/apikeys', { name: 'x' }), 400, 'validation_failed', 'role');
  expectError(await admin.post('/api/v1/apikeys', { name: 'x', role: 'root' }), 400, 'validation_failed', 'role');
  expectError(await admin.post('/api/v1/apikeys', { name: '', role: 'viewer' }), 400, 'validation_failed', 'name');
  expectError(await admin.post('/api/v1/apikeys', { name: 'x', role: 'viewer', key: 'loy_chosen' }), 400, 'validation_failed', 'key');
  const adminKey = await srv.apiKeyClient('admin');
  expectError(await adminKey.post('/api/v1/apikeys', { name: 'escalate', role: 'owner' }), 403, 'forbidden');
  expectError(await adminKey.post('/api/v1/apikeys', { name: 'escalate', role: 'admin' }), 403, 'forbidden');
  assert.equal((await owner.get('/api/v1/apikeys')).body.items.length, n + 1, 'only the admin key made by the helper was added');
});
