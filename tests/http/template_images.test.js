// Card-template images (Apple Wallet icon, logo, strip at @1x/@2x/@3x): raw PNG uploads checked
// for their slot, read back byte for byte, listed, deleted; every refusal — wrong type, damaged or
// oversized file, unknown slot, wrong role, another business — answers the documented status and
// leaves the stored image as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, expectError } from './harness.js';
import { chunk, png, SIGNATURE } from './lib/png.js';

const SLOTS = {
  icon: [29, 29, 64 << 10], 'icon@2x': [58, 58, 128 << 10], 'icon@3x': [87, 87, 256 << 10],
  logo: [160, 50, 128 << 10], 'logo@2x': [320, 100, 256 << 10], 'logo@3x': [480, 150, 512 << 10],
  strip: [375, 144, 512 << 10], 'strip@2x': [750, 288, 1 << 20], 'strip@3x': [1125, 432, 2 << 20],
};
const ROUTE_CAP = 2 << 20;

/** A valid w×h PNG of exactly `size` bytes (padded with a tEXt comment). */
function pngOfSize(w, h, size, level = 9) {
  const bare = png(w, h, { level, text: '' });
  assert.ok(bare.length <= size, `a ${w}x${h} PNG is already ${bare.length} bytes`);
  const out = png(w, h, { level, text: 'x'.repeat(size - bare.length) });
  assert.equal(out.length, size);
  return out;
}

const sha1 = (b) => crypto.createHash('sha1').update(b).digest('hex');

let srv, owner, tpl, other, otherTpl, viewer, cashier, adminKey;

before(async () => {
  srv = await startServer();
  owner = await srv.owner();
  const t = await owner.post('/api/v1/templates', { name: 'Main card' });
  assert.equal(t.status, 201, t.text);
  tpl = t.body;
  viewer = await srv.apiKeyClient('viewer');
  cashier = await srv.staff('cashier');
  adminKey = await srv.apiKeyClient('admin');
  await srv.cliOk(['business', 'add', '--name', 'Other Shop', '--slug', 'other']);
  await srv.cliOk(['user', 'add', '--email', 'owner-other@test.loy', '--role', 'owner', '--business', 'other'], 'other-owner-password\n');
  other = await srv.login('owner-other@test.loy', 'other-owner-password');
  const ot = await other.post('/api/v1/templates', { name: 'Their card' });
  assert.equal(ot.status, 201, ot.text);
  otherTpl = ot.body;
});
after(async () => { await srv?.stop(); });

const imgPath = (id, name) => `/api/v1/templates/${id}/images/${name}`;
const put = (client, id, name, body, opts = {}) => client.put(imgPath(id, name), body, { contentType: 'image/png', ...opts });

/** The template's image list and one image's bytes (null when absent), to compare around refusals. */
async function state(client, id, name) {
  const list = await client.get(`/api/v1/templates/${id}/images`);
  assert.equal(list.status, 200, list.text);
  const one = await client.get(imgPath(id, name));
  assert.ok(one.status === 200 || one.status === 404, one.text);
  const t = await client.get(`/api/v1/templates/${id}`);
  return { items: list.body.items, bytes: one.status === 200 ? sha1(one.raw) : null, templateUpdatedAt: t.body.updatedAt };
}

test('an uploaded icon comes back byte for byte, listed with its size and SHA-1', async () => {
  const file = png(29, 29);
  const res = await put(owner, tpl.id, 'icon', file);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual({ ...res.body, updatedAt: undefined }, { name: 'icon', width: 29, height: 29, bytes: file.length, sha1: sha1(file), updatedAt: undefined });
  const got = await owner.get(imgPath(tpl.id, 'icon'));
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'image/png');
  assert.ok(got.raw.equals(file), 'the same bytes');
  const list = await viewer.get(`/api/v1/templates/${tpl.id}/images`);
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.items, [{ name: 'icon', bytes: file.length, sha1: sha1(file), updatedAt: res.body.updatedAt }]);
});

test('every slot takes an image of its full size, listed in name order', async () => {
  const names = Object.keys(SLOTS);
  for (const [i, name] of names.entries()) {
    const [w, h] = SLOTS[name];
    const res = await put(adminKey, tpl.id, name, png(w, h, { seed: i + 2 }));
    assert.equal(res.status, 200, `${name}: ${res.text}`);
    assert.equal(res.body.width, w);
    assert.equal(res.body.height, h);
  }
  const list = await owner.get(`/api/v1/templates/${tpl.id}/images`);
  assert.deepEqual(list.body.items.map((i) => i.name), [...names].sort());
  for (const name of names) {
    const got = await viewer.get(imgPath(tpl.id, name));
    assert.equal(got.status, 200);
    assert.equal(sha1(got.raw), list.body.items.find((i) => i.name === name).sha1);
  }
});

test('replacing an image keeps one per slot and moves the template forward', async () => {
  const before = await state(owner, tpl.id, 'logo');
  const file = png(100, 40, { seed: 99 });
  const res = await put(owner, tpl.id, 'logo', file);
  assert.equal(res.status, 200, res.text);
  const after = await state(owner, tpl.id, 'logo');
  assert.equal(after.items.length, before.items.length);
  assert.equal(after.bytes, sha1(file));
  assert.notEqual(after.bytes, before.bytes);
  assert.ok(after.templateUpdatedAt > before.templateUpdatedAt, `${after.templateUpdatedAt} > ${before.templateUpdatedAt}`);
});

test('N and N+1: a file of exactly the slot cap is taken, one byte more is 413', async () => {
  const [w, h, cap] = SLOTS.icon;
  const ok = await put(owner, tpl.id, 'icon', pngOfSize(w, h, cap));
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.bytes, cap);
  const before = await state(owner, tpl.id, 'icon');
  const res = await put(owner, tpl.id, 'icon', pngOfSize(w, h, cap + 1));
  expectError(res, 413, 'payload_too_large');
  assert.match(res.body.error.message, /icon may be at most 65536 bytes/);
  assert.deepEqual(await state(owner, tpl.id, 'icon'), before);
});

test('the largest slot: a 2 MiB strip@3x round-trips; 2 MiB + 1 is refused by the route', async () => {
  const [w, h, cap] = SLOTS['strip@3x'];
  assert.equal(cap, ROUTE_CAP);
  const file = pngOfSize(w, h, cap, 0);
  const res = await put(owner, tpl.id, 'strip@3x', file);
  assert.equal(res.status, 200, res.text);
  const got = await owner.get(imgPath(tpl.id, 'strip@3x'));
  assert.equal(got.status, 200);
  assert.ok(got.raw.equals(file), 'the same 2 MiB');
  const before = await state(owner, tpl.id, 'strip@3x');
  for (const chunked of [false, true]) {
    expectError(await put(owner, tpl.id, 'strip@3x', pngOfSize(w, h, cap + 1, 0), { chunked }), 413, 'payload_too_large');
  }
  assert.deepEqual(await state(owner, tpl.id, 'strip@3x'), before);
});

test('N and N+1 in pixels: the slot size is taken, a pixel more either way is 422 naming both sizes', async () => {
  assert.equal((await put(owner, tpl.id, 'icon@2x', png(58, 58, { seed: 5 }))).status, 200);
  const before = await state(owner, tpl.id, 'icon@2x');
  for (const [w, h] of [[59, 58], [58, 59], [1000, 1]]) {
    const res = await put(owner, tpl.id, 'icon@2x', png(w, h));
    expectError(res, 422, 'rule_violation');
    assert.match(res.body.error.message, /58 pixels wide and 58 high/);
    assert.match(res.body.error.message, new RegExp(`${w} x ${h}`));
  }
  // A header claiming 100 000 x 100 000 pixels is refused without decoding anything.
  const bomb = png(1, 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100000, 0);
  ihdr.writeUInt32BE(100000, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const forged = Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), bomb.subarray(33)]);
  expectError(await put(owner, tpl.id, 'icon@2x', forged), 422, 'rule_violation');
  assert.deepEqual(await state(owner, tpl.id, 'icon@2x'), before);
});

test('damaged files are 422 and change nothing: truncated, bad CRC, bytes after IEND, a JPEG, empty, text', async () => {
  const good = png(29, 29, { seed: 11 });
  assert.equal((await put(owner, tpl.id, 'icon', good)).status, 200);
  const before = await state(owner, tpl.id, 'icon');

  const badCrc = Buffer.from(good);
  const idat = badCrc.indexOf('IDAT');
  const idatLen = badCrc.readUInt32BE(idat - 4);
  badCrc[idat + 4 + idatLen] ^= 0xff; // the IDAT chunk's CRC
  const badData = Buffer.from(good);
  badData[idat + 10] ^= 0x55; // a byte of compressed data (its CRC now wrong too)
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), crypto.randomBytes(200), Buffer.from([0xff, 0xd9])]);
  const cases = {
    'truncated in IDAT': good.subarray(0, idat + 20),
    'truncated before IEND': good.subarray(0, good.length - 12),
    'signature only': SIGNATURE,
    'bad CRC': badCrc,
    'damaged data': badData,
    'bytes after IEND': Buffer.concat([good, Buffer.from('trailing')]),
    'a second PNG after IEND': Buffer.concat([good, good]),
    'a JPEG': jpeg,
    empty: Buffer.alloc(0),
    text: Buffer.from('not a png at all'),
  };
  for (const [what, body] of Object.entries(cases)) {
    const res = await put(owner, tpl.id, 'icon', body);
    expectError(res, 422, 'rule_violation');
    assert.match(res.body.error.message, /^icon: /, what);
  }
  assert.deepEqual(await state(owner, tpl.id, 'icon'), before);
});

test('Content-Type must be image/png: 415 and nothing changes', async () => {
  const before = await state(owner, tpl.id, 'icon');
  const file = png(29, 29, { seed: 77 });
  for (const ct of ['image/jpeg', 'application/json', 'application/octet-stream', 'image/pngx', null]) {
    const res = await owner.put(imgPath(tpl.id, 'icon'), file, { contentType: ct });
    expectError(res, 415, 'unsupported_media_type');
  }
  assert.deepEqual(await state(owner, tpl.id, 'icon'), before);
  // The media type is matched without regard to case, parameters allowed.
  assert.equal((await owner.put(imgPath(tpl.id, 'logo@3x'), png(10, 10), { contentType: 'IMAGE/PNG; foo=bar' })).status, 200);
});

test('unknown slots and templates are 404', async () => {
  const before = await state(owner, tpl.id, 'icon');
  const file = png(29, 29, { seed: 3 });
  for (const name of ['thumbnail', 'background', 'icon@4x', 'icon.png', 'icon@1x', 'ICON', 'icon%00', '%2e%2e', 'icon@2x@2x', 'x'.repeat(300)]) {
    expectError(await put(owner, tpl.id, name, file), 404, 'not_found');
    expectError(await owner.get(imgPath(tpl.id, name)), 404, 'not_found');
    expectError(await owner.del(imgPath(tpl.id, name)), 404, 'not_found');
  }
  for (const id of ['999999', '0', '-1', 'abc', '1.5']) {
    expectError(await put(owner, id, 'icon', file), 404, 'not_found');
    expectError(await owner.get(`/api/v1/templates/${id}/images`), 404, 'not_found');
    expectError(await owner.get(imgPath(id, 'icon')), 404, 'not_found');
    expectError(await owner.del(imgPath(id, 'icon')), 404, 'not_found');
  }
  assert.deepEqual(await state(owner, tpl.id, 'icon'), before);
});

test('delete: 204, then the slot is empty; deleting again is 404', async () => {
  assert.equal((await put(owner, tpl.id, 'strip@2x', png(20, 20))).status, 200);
  const res = await owner.del(imgPath(tpl.id, 'strip@2x'));
  assert.equal(res.status, 204, res.text);
  expectError(await owner.get(imgPath(tpl.id, 'strip@2x')), 404, 'not_found');
  const list = await owner.get(`/api/v1/templates/${tpl.id}/images`);
  assert.ok(!list.body.items.some((i) => i.name === 'strip@2x'));
  const before = await state(owner, tpl.id, 'strip@2x');
  expectError(await owner.del(imgPath(tpl.id, 'strip@2x')), 404, 'not_found');
  assert.deepEqual(await state(owner, tpl.id, 'strip@2x'), before);
});

test('viewers and cashiers read but neither uploads nor deletes', async () => {
  const before = await state(owner, tpl.id, 'icon');
  const file = png(29, 29, { seed: 42 });
  for (const c of [viewer, cashier]) {
    expectError(await put(c, tpl.id, 'icon', file), 403, 'forbidden');
    expectError(await put(c, tpl.id, 'icon@3x', file), 403, 'forbidden');
    expectError(await c.del(imgPath(tpl.id, 'icon')), 403, 'forbidden');
    assert.equal((await c.get(imgPath(tpl.id, 'icon'))).status, 200);
    assert.equal((await c.get(`/api/v1/templates/${tpl.id}/images`)).status, 200);
  }
  expectError(await put(owner, tpl.id, 'icon', file, { csrf: false }), 403, 'forbidden');
  expectError(await owner.get(`/api/v1/templates/${tpl.id}/images`, { auth: false }), 401, 'unauthorized');
  expectError(await put(owner, tpl.id, 'icon', file, { auth: false }), 401, 'unauthorized');
  assert.deepEqual(await state(owner, tpl.id, 'icon'), before);
});

test("another business's template is 404 both ways, and its images stay as they were", async () => {
  const theirs = png(29, 29, { seed: 200 });
  assert.equal((await put(other, otherTpl.id, 'icon', theirs)).status, 200);
  const beforeTheirs = await state(other, otherTpl.id, 'icon');
  const beforeMine = await state(owner, tpl.id, 'icon');
  const file = png(29, 29, { seed: 201 });
  for (const [c, id] of [[owner, otherTpl.id], [adminKey, otherTpl.id], [other, tpl.id]]) {
    expectError(await put(c, id, 'icon', file), 404, 'not_found');
    expectError(await put(c, id, 'logo', file), 404, 'not_found');
    expectError(await c.get(`/api/v1/templates/${id}/images`), 404, 'not_found');
    expectError(await c.get(imgPath(id, 'icon')), 404, 'not_found');
    expectError(await c.del(imgPath(id, 'icon')), 404, 'not_found');
  }
  assert.deepEqual(await state(other, otherTpl.id, 'icon'), beforeTheirs);
  assert.deepEqual(await state(owner, tpl.id, 'icon'), beforeMine);
});

test('an Idempotency-Key replays the first answer', async () => {
  const file = png(29, 29, { seed: 123 });
  const headers = { 'Idempotency-Key': `img-${crypto.randomUUID()}` };
  const first = await put(owner, tpl.id, 'icon', file, { headers });
  assert.equal(first.status, 200, first.text);
  const again = await put(owner, tpl.id, 'icon', file, { headers });
  assert.equal(again.status, 200);
  assert.equal(again.headers['idempotent-replayed'], 'true');
  assert.deepEqual(again.body, first.body);
  expectError(await put(owner, tpl.id, 'icon', png(29, 29, { seed: 124 }), { headers }), 409, 'idempotency_conflict');
  const got = await owner.get(imgPath(tpl.id, 'icon'));
  assert.ok(got.raw.equals(file));
});

test('a deleted template takes its images with it', async () => {
  const t = await owner.post('/api/v1/templates', { name: 'Short-lived' });
  assert.equal(t.status, 201, t.text);
  assert.equal((await put(owner, t.body.id, 'icon', png(29, 29))).status, 200);
  assert.equal((await owner.del(`/api/v1/templates/${t.body.id}`)).status, 204);
  expectError(await owner.get(`/api/v1/templates/${t.body.id}/images`), 404, 'not_found');
  expectError(await owner.get(imgPath(t.body.id, 'icon')), 404, 'not_found');
});
