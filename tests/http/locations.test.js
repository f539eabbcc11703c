// Business locations (Apple Wallet `locations` with `relevantText`): coordinates are JSON numbers in
// degrees that come back exactly as sent (kept as micro-degrees), bounds are checked at N and N+1,
// a business stops at 100, and every refusal — bad input, wrong role, another business — answers
// the documented status and changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, expectError } from './harness.js';

const MAX = 100;
let srv, owner, adminKey, viewer, cashier, other;

before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  adminKey = await srv.apiKeyClient('admin');
  viewer = await srv.apiKeyClient('viewer');
  cashier = await srv.staff('cashier');
  await srv.cliOk(['business', 'add', '--name', 'Other Shop', '--slug', 'other']);
  await srv.cliOk(['user', 'add', '--email', 'owner-other@test.loy', '--role', 'owner', '--business', 'other'], 'other-owner-password\n');
  other = await srv.login('owner-other@test.loy', 'other-owner-password');
});
after(async () => { await srv?.stop(); });

async function create(client, body) {
  const res = await client.post('/api/v1/locations', body);
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Everything a client can see of the business's locations, to compare around refusals. */
async function all(client) {
  const res = await client.get('/api/v1/locations');
  assert.equal(res.status, 200, res.text);
  return res.text;
}

test('a location is created, read and listed with its coordinates exactly as sent', async () => {
  const res = await owner.post('/api/v1/locations', { name: 'Тверская, 7', latitude: 55.755826, longitude: 37.6173, relevantText: 'Кофе в двух шагах — покажите карту' });
  assert.equal(res.status, 201, res.text);
  assert.match(res.text, /"latitude":55\.755826,"longitude":37\.6173,/);
  const loc = res.body;
  assert.equal(loc.name, 'Тверская, 7');
  assert.equal(loc.relevantText, 'Кофе в двух шагах — покажите карту');
  assert.equal(loc.createdAt, loc.updatedAt);
  const got = await viewer.get(`/api/v1/locations/${loc.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.body, loc);
  assert.match(got.text, /"latitude":55\.755826,/);
  const list = await viewer.get('/api/v1/locations');
  assert.deepEqual(list.body.items.find((l) => l.id === loc.id), loc);
});

test('coordinates of up to 6 decimals round-trip exactly; more are rounded to a micro-degree', async () => {
  const loc = await create(owner, { name: 'Probe', latitude: 0, longitude: 0 });
  const values = [[90, 180], [-90, -180], [0.000001, -0.000001], [-33.868820, 151.209296], [59.9386, 30.3141], [1, -1]];
  for (let i = 0; i < 40; i++) {
    values.push([crypto.randomInt(-90000000, 90000001) / 1e6, crypto.randomInt(-180000000, 180000001) / 1e6]);
  }
  for (const [latitude, longitude] of values) {
    const res = await owner.patch(`/api/v1/locations/${loc.id}`, { latitude, longitude });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.latitude, latitude, `latitude ${latitude} came back as ${res.body.latitude}`);
    assert.equal(res.body.longitude, longitude, `longitude ${longitude} came back as ${res.body.longitude}`);
    const raw = JSON.parse((await owner.get(`/api/v1/locations/${loc.id}`)).text);
    assert.equal(raw.latitude, latitude);
  }
  const rounded = await owner.patch(`/api/v1/locations/${loc.id}`, { latitude: 55.7558264, longitude: 37.61730051 });
  assert.equal(rounded.body.latitude, 55.755826);
  assert.equal(rounded.body.longitude, 37.617301);
  const negative = await owner.patch(`/api/v1/locations/${loc.id}`, { latitude: -55.7558266, longitude: 12 });
  assert.equal(negative.body.latitude, -55.755827);
  assert.equal(negative.body.longitude, 12);
  assert.equal((await owner.del(`/api/v1/locations/${loc.id}`)).status, 204);
});

test('bad input is 400 naming the field, and nothing is created or changed', async () => {
  const loc = await create(owner, { name: 'Steady', latitude: 10, longitude: 20, relevantText: 'here' });
  const before = await all(owner);
  const ok = { name: 'X', latitude: 1, longitude: 2 };
  const bad = [
    [{ ...ok, latitude: 90.000001 }, 'latitude'], [{ ...ok, latitude: -90.0000001 }, 'latitude'],
    [{ ...ok, longitude: 180.000001 }, 'longitude'], [{ ...ok, longitude: -181 }, 'longitude'],
    [{ ...ok, latitude: '55.75' }, 'latitude'], [{ ...ok, latitude: null }, 'latitude'],
    [{ ...ok, longitude: true }, 'longitude'], [{ ...ok, longitude: [1] }, 'longitude'],
    [{ ...ok, latitude: { deg: 1 } }, 'latitude'],
    [{ name: 'X', longitude: 2 }, 'latitude'], [{ name: 'X', latitude: 2 }, 'longitude'],
    [{ latitude: 1, longitude: 2 }, 'name'],
    [{ ...ok, name: '' }, 'name'], [{ ...ok, name: 'n'.repeat(201) }, 'name'], [{ ...ok, name: 'a\u0007b' }, 'name'],
    [{ ...ok, name: 7 }, 'name'],
    [{ ...ok, relevantText: 'r'.repeat(501) }, 'relevantText'], [{ ...ok, relevantText: 'line\nbreak' }, 'relevantText'],
    [{ ...ok, relevantText: '' }, 'relevantText'], [{ ...ok, relevantText: 5 }, 'relevantText'],
    [{ ...ok, id: 5 }, 'id'], [{ ...ok, createdAt: 'now' }, 'createdAt'],
  ];
  for (const [body, field] of bad) {
    expectError(await owner.post('/api/v1/locations', body), 400, 'validation_failed', field);
    // The same bad value alone in a patch (a missing field is no error there).
    if (field in body) expectError(await owner.patch(`/api/v1/locations/${loc.id}`, { [field]: body[field] }), 400, 'validation_failed', field);
  }
  // Numbers beyond what a double holds, and bodies that are not JSON objects.
  for (const text of ['{"name":"X","latitude":1e400,"longitude":1}', '{"name":"X","latitude":1,', '[1,2]', '"x"', '{"name":"X","name":"Y","latitude":1,"longitude":2}', '{"name":"a\\u0000b","latitude":1,"longitude":2}']) {
    expectError(await owner.post('/api/v1/locations', text), 400, ['malformed_json', 'validation_failed']);
    expectError(await owner.patch(`/api/v1/locations/${loc.id}`, text), 400, ['malformed_json', 'validation_failed']);
  }
  expectError(await owner.post('/api/v1/locations', ok, { contentType: 'text/plain' }), 415, 'unsupported_media_type');
  expectError(await owner.patch(`/api/v1/locations/${loc.id}`, { name: 'Y' }, { contentType: 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
  const huge = { ...ok, name: 'X', relevantText: 'y', pad: 'z'.repeat(17000) };
  expectError(await owner.post('/api/v1/locations', huge), 413, 'payload_too_large');
  expectError(await owner.patch(`/api/v1/locations/${loc.id}`, huge), 413, 'payload_too_large');
  assert.equal(await all(owner), before);
});

test('N and N+1: name 200 and relevantText 500 characters are taken, the edges of the globe too', async () => {
  const loc = await create(owner, { name: 'н'.repeat(200), latitude: -90, longitude: 180, relevantText: 'т'.repeat(500) });
  assert.equal(loc.name.length, 200);
  assert.equal(loc.relevantText.length, 500);
  assert.equal(loc.latitude, -90);
  assert.equal(loc.longitude, 180);
  assert.equal((await owner.del(`/api/v1/locations/${loc.id}`)).status, 204);
});

test('patch changes only what it names; relevantText null clears it', async () => {
  const loc = await create(owner, { name: 'Patchable', latitude: 1.5, longitude: 2.5, relevantText: 'near' });
  const renamed = await adminKey.patch(`/api/v1/locations/${loc.id}`, { name: 'Renamed' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.deepEqual({ ...renamed.body, updatedAt: loc.updatedAt }, { ...loc, name: 'Renamed' });
  assert.ok(renamed.body.updatedAt >= loc.updatedAt);
  const cleared = await owner.patch(`/api/v1/locations/${loc.id}`, { relevantText: null });
  assert.equal(cleared.body.relevantText, null);
  assert.equal(cleared.body.latitude, 1.5);
  const same = await owner.patch(`/api/v1/locations/${loc.id}`, {});
  assert.equal(same.status, 200);
  assert.deepEqual({ ...same.body, updatedAt: null }, { ...cleared.body, updatedAt: null });
  assert.deepEqual((await owner.get(`/api/v1/locations/${loc.id}`)).body, same.body);
});

test('delete: 204, then 404 everywhere', async () => {
  const loc = await create(owner, { name: 'Closing', latitude: 3, longitude: 4 });
  assert.equal((await owner.del(`/api/v1/locations/${loc.id}`)).status, 204);
  const before = await all(owner);
  expectError(await owner.get(`/api/v1/locations/${loc.id}`), 404, 'not_found');
  expectError(await owner.patch(`/api/v1/locations/${loc.id}`, { name: 'Back' }), 404, 'not_found');
  expectError(await owner.del(`/api/v1/locations/${loc.id}`), 404, 'not_found');
  for (const id of ['0', '-1', 'abc', '1.5', '99999999999999999999', '999999']) {
    expectError(await owner.get(`/api/v1/locations/${id}`), 404, 'not_found');
    expectError(await owner.patch(`/api/v1/locations/${id}`, { name: 'Z' }), 404, 'not_found');
    expectError(await owner.del(`/api/v1/locations/${id}`), 404, 'not_found');
  }
  assert.equal(await all(owner), before);
});

test('viewers and cashiers read but neither create, change nor delete', async () => {
  const loc = await create(owner, { name: 'Guarded', latitude: 5, longitude: 6 });
  const before = await all(owner);
  for (const c of [viewer, cashier]) {
    expectError(await c.post('/api/v1/locations', { name: 'Denied', latitude: 1, longitude: 1 }), 403, 'forbidden');
    expectError(await c.patch(`/api/v1/locations/${loc.id}`, { name: 'Denied' }), 403, 'forbidden');
    expectError(await c.del(`/api/v1/locations/${loc.id}`), 403, 'forbidden');
    assert.equal((await c.get(`/api/v1/locations/${loc.id}`)).status, 200);
    assert.equal(await all(c), before);
  }
  expectError(await owner.post('/api/v1/locations', { name: 'No CSRF', latitude: 1, longitude: 1 }, { csrf: false }), 403, 'forbidden');
  expectError(await owner.get('/api/v1/locations', { auth: false }), 401, 'unauthorized');
  expectError(await owner.post('/api/v1/locations', { name: 'Anon', latitude: 1, longitude: 1 }, { auth: false }), 401, 'unauthorized');
  assert.equal(await all(owner), before);
});

test("another business's locations are 404 and its list is its own", async () => {
  const mine = await create(owner, { name: 'Mine', latitude: 7, longitude: 8 });
  const theirs = await create(other, { name: 'Theirs', latitude: -7, longitude: -8 });
  const beforeMine = await all(owner);
  const beforeTheirs = await all(other);
  for (const [c, loc] of [[owner, theirs], [adminKey, theirs], [other, mine]]) {
    expectError(await c.get(`/api/v1/locations/${loc.id}`), 404, 'not_found');
    expectError(await c.patch(`/api/v1/locations/${loc.id}`, { name: 'Hijacked' }), 404, 'not_found');
    expectError(await c.del(`/api/v1/locations/${loc.id}`), 404, 'not_found');
  }
  assert.equal(await all(owner), beforeMine);
  assert.equal(await all(other), beforeTheirs);
  assert.deepEqual(JSON.parse(beforeTheirs).items.map((l) => l.name), ['Theirs']);
  assert.ok(!JSON.parse(beforeMine).items.some((l) => l.name === 'Theirs'));
});

test('N and N+1: the 100th location is taken, the 101st is 422, also when they race; a deletion makes room', async () => {
  const existing = JSON.parse(await all(other)).items.length;
  for (let i = existing; i < MAX - 10; i++) await create(other, { name: `Shop ${i}`, latitude: i / 10, longitude: -i / 10 });
  // 25 at once for the last 10 places: exactly 10 get in, whatever the interleaving.
  const race = await Promise.all(Array.from({ length: 25 }, (_, i) => other.post('/api/v1/locations', { name: `Racer ${i}`, latitude: 1, longitude: 2 })));
  assert.deepEqual(race.map((r) => r.status).sort(), [...Array(10).fill(201), ...Array(15).fill(422)]);
  const full = await all(other);
  assert.equal(JSON.parse(full).items.length, MAX);
  const res = await other.post('/api/v1/locations', { name: 'One too many', latitude: 1, longitude: 1 });
  expectError(res, 422, 'rule_violation');
  assert.match(res.body.error.message, /at most 100 locations/);
  assert.equal(await all(other), full);
  const items = JSON.parse(full).items;
  assert.deepEqual(items.map((l) => l.id), [...items.map((l) => l.id)].sort((a, b) => a - b), 'oldest first');
  assert.equal((await other.del(`/api/v1/locations/${items[0].id}`)).status, 204);
  await create(other, { name: 'The replacement', latitude: 1, longitude: 1 });
});

test('an Idempotency-Key replays the first answer and creates once', async () => {
  const headers = { 'Idempotency-Key': `loc-${crypto.randomUUID()}` };
  const body = { name: 'Once', latitude: 44.5, longitude: 33.25 };
  const first = await owner.post('/api/v1/locations', body, { headers });
  assert.equal(first.status, 201, first.text);
  const again = await owner.post('/api/v1/locations', body, { headers });
  assert.equal(again.status, 201);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.equal(again.text, first.text);
  const named = JSON.parse(await all(owner)).items.filter((l) => l.name === 'Once');
  assert.equal(named.length, 1);
});
