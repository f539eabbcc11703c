// The bodies Loy's Google Wallet builders write (src/wallet/google/objects.c), checked against the
// walletobjects v1 schema in google-schema/walletobjects-v1.json, which is derived from Google's own
// typed client and not from our code (see its "source" key).
//
// The bodies are the golden files in google-samples/: tests/unit/test_google_objects.c checks on
// every run that the builders still write exactly these bytes, so what passes here is what Loy
// sends. The check is this file's own (known keys at every depth, types, int32 range, canonical
// enum spellings, required fields) plus the documented rules the builders rely on (one balance
// form, one image source, URIs with a scheme, text module ids, merchantLocations, ids' alphabet,
// the review statuses a client may send), so that it does not lean on the fake under test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCHEMA = JSON.parse(fs.readFileSync(path.join(HERE, 'google-schema', 'walletobjects-v1.json'), 'utf8'));
const SAMPLES = path.join(HERE, 'google-samples');

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Every finding as "path: problem"; an empty list means the value fits schema `name`.
// partial: a PATCH body (required fields may be missing, a top-level null clears a field).
function validate(name, value, at = '', { partial = false } = {}) {
  const schema = SCHEMA.schemas[name];
  const out = [];
  if (!schema) return [`${at || '(root)'}: no schema ${name}`];
  if (!isObject(value)) return [`${at || '(root)'}: ${name} must be an object`];
  for (const [k, v] of Object.entries(value)) {
    const spec = schema.properties[k];
    const here = at ? `${at}.${k}` : k;
    if (!spec) {
      out.push(`${here}: unknown key in ${name}`);
      continue;
    }
    if (v === null) {
      if (!(partial && at === '')) out.push(`${here}: null outside a PATCH body's top level`);
      continue;
    }
    if (spec.deprecated) out.push(`${here}: deprecated field`);
    if (spec.type === 'array') {
      if (!Array.isArray(v)) out.push(`${here}: must be an array`);
      else v.forEach((item, i) => out.push(...valueFindings(spec.items, item, `${here}[${i}]`)));
    } else {
      out.push(...valueFindings(spec, v, here));
    }
  }
  if (!partial) {
    for (const [k, spec] of Object.entries(schema.properties)) {
      if (spec.required && (value[k] === undefined || value[k] === null || value[k] === '')) {
        out.push(`${at ? `${at}.${k}` : k}: required in ${name}`);
      }
    }
  }
  return out;
}

function valueFindings(spec, v, at) {
  if (spec.ref) return validate(spec.ref, v, at);
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') return [`${at}: must be a string`];
      if (spec.format === 'int64' && !/^-?\d+$/.test(v)) return [`${at}: must be an int64 string`];
      if (spec.enum && !spec.enum.includes(v)) return [`${at}: ${v} is not one of ${spec.enum.join(', ')}`];
      if (spec.enumDeprecated && spec.enumDeprecated.includes(v)) return [`${at}: deprecated spelling ${v}`];
      return [];
    case 'integer':
      if (!Number.isInteger(v)) return [`${at}: must be an integer`];
      if (spec.format === 'int32' && (v < -(2 ** 31) || v >= 2 ** 31)) return [`${at}: out of int32 range`];
      return [];
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? [] : [`${at}: must be a number`];
    case 'boolean':
      return typeof v === 'boolean' ? [] : [`${at}: must be a boolean`];
    default:
      return [`${at}: unchecked type ${spec.type}`];
  }
}

const ID_RE = /^\d{1,20}\.[A-Za-z0-9._-]{1,100}$/;
const SCHEME_RE = /^(https?:\/\/[^\s/]+|tel:\+\d+$|mailto:[^\s@]+@[^\s@]+$)/;

// The documented rules beyond the schema that the builders promise (spec §2.2–§2.6).
function ruleFindings(kind, doc) {
  const out = [];
  const images = [];
  const balances = [];
  if (kind === 'class') {
    if (!ID_RE.test(doc.id)) out.push(`id: ${doc.id} is not <issuerId>.<suffix>`);
    if (!['DRAFT', 'UNDER_REVIEW'].includes(doc.reviewStatus)) out.push(`reviewStatus: a client may send only DRAFT or UNDER_REVIEW`);
    images.push(['programLogo', doc.programLogo]);
    if (doc.heroImage) images.push(['heroImage', doc.heroImage]);
    for (const [i, u] of (doc.linksModuleData?.uris ?? []).entries()) {
      if (!SCHEME_RE.test(u.uri)) out.push(`linksModuleData.uris[${i}].uri: ${u.uri} has no usable scheme`);
    }
    for (const [i, m] of (doc.textModulesData ?? []).entries()) {
      if (!/^[A-Za-z0-9_-]+$/.test(m.id)) out.push(`textModulesData[${i}].id: ${m.id} (no dots)`);
    }
    const locs = doc.merchantLocations ?? [];
    if (locs.length > 10) out.push(`merchantLocations: ${locs.length} > 10`);
    for (const [i, l] of locs.entries()) {
      if (Math.abs(l.latitude) > 90 || Math.abs(l.longitude) > 180) out.push(`merchantLocations[${i}]: out of range`);
    }
    if (doc.hexBackgroundColor && !/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(doc.hexBackgroundColor)) out.push('hexBackgroundColor');
  }
  if (kind === 'object' || kind === 'patch') {
    if (kind === 'object' && !ID_RE.test(doc.id)) out.push(`id: ${doc.id} is not <issuerId>.<suffix>`);
    if (kind === 'patch' && 'id' in doc) out.push('id: a PATCH carries no id');
    if (!ID_RE.test(doc.classId)) out.push(`classId: ${doc.classId} is not <issuerId>.<suffix>`);
    if (!['ACTIVE', 'INACTIVE'].includes(doc.state)) out.push(`state: ${doc.state}`);
    balances.push(['loyaltyPoints.balance', doc.loyaltyPoints?.balance]);
    if (doc.secondaryLoyaltyPoints) balances.push(['secondaryLoyaltyPoints.balance', doc.secondaryLoyaltyPoints.balance]);
    if (doc.barcode?.type !== 'QR_CODE' || doc.barcode?.value !== doc.accountId) out.push('barcode: a QR code of the accountId');
  }
  if (kind === 'message') {
    const m = doc.message;
    for (const k of ['id', 'header', 'body', 'messageType']) if (typeof m?.[k] !== 'string' || m[k] === '') out.push(`message.${k}: required by Loy`);
    for (const k of ['start', 'end']) {
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(m?.displayInterval?.[k]?.date ?? '')) out.push(`message.displayInterval.${k}.date`);
    }
    if (!(Date.parse(m.displayInterval.start.date) < Date.parse(m.displayInterval.end.date))) out.push('message.displayInterval: end before start');
  }
  for (const [at, img] of images) {
    const n = ['sourceUri', 'privateImageId'].filter((k) => img?.[k] != null).length;
    if (n !== 1) out.push(`${at}: exactly one of sourceUri and privateImageId`);
    if (!/^https?:\/\//.test(img?.sourceUri?.uri ?? '')) out.push(`${at}.sourceUri.uri: needs a scheme`);
    if (!img?.contentDescription?.defaultValue?.value) out.push(`${at}.contentDescription: a LocalizedString`);
  }
  for (const [at, b] of balances) {
    const n = ['string', 'int', 'double', 'money'].filter((k) => b?.[k] != null).length;
    if (n !== 1) out.push(`${at}: exactly one of string, int, double, money`);
  }
  return out;
}

// The root schema and kind of each sample, by its name.
function kindOf(file) {
  if (file.startsWith('class-')) return { kind: 'class', schema: 'LoyaltyClass', partial: false };
  if (file.startsWith('object-')) return { kind: 'object', schema: 'LoyaltyObject', partial: false };
  if (file.startsWith('patch-')) return { kind: 'patch', schema: 'LoyaltyObject', partial: true };
  if (file.startsWith('message-')) return { kind: 'message', schema: 'AddMessageRequest', partial: false };
  throw new Error(`google-samples/${file}: unknown kind of sample`);
}

const files = fs.readdirSync(SAMPLES).filter((f) => f.endsWith('.json')).sort();
const load = (f) => JSON.parse(fs.readFileSync(path.join(SAMPLES, f), 'utf8'));

test('there are samples of every kind', () => {
  for (const prefix of ['class-', 'object-', 'patch-', 'message-']) {
    assert.ok(files.some((f) => f.startsWith(prefix)), `no ${prefix}*.json in google-samples/`);
  }
});

for (const file of files) {
  test(`google-samples/${file} fits the walletobjects v1 schema and Google's rules`, () => {
    const { kind, schema, partial } = kindOf(file);
    const doc = load(file);
    assert.deepEqual(validate(schema, doc, '', { partial }), []);
    assert.deepEqual(ruleFindings(kind, doc), []);
  });
}

test('the PATCH samples: notifyPreference only where asked, nulls only to clear', () => {
  const notify = load('patch-notify.json');
  const clear = load('patch-clear.json');
  assert.equal(notify.notifyPreference, 'NOTIFY_ON_UPDATE');
  assert.ok(SCHEMA.schemas.LoyaltyObject.properties.notifyPreference.enum.includes('NOTIFY_ON_UPDATE'));
  assert.equal('notifyPreference' in clear, false);
  assert.equal(clear.accountName, null);
  assert.equal(clear.secondaryLoyaltyPoints, null);
});

test('the message samples: TEXT_AND_NOTIFY and TEXT are messageType values', () => {
  const types = SCHEMA.schemas.Message.properties.messageType.enum;
  assert.equal(load('message-notify.json').message.messageType, 'TEXT_AND_NOTIFY');
  assert.equal(load('message-text.json').message.messageType, 'TEXT');
  assert.ok(types.includes('TEXT_AND_NOTIFY') && types.includes('TEXT'));
});

// The check above must be able to fail: each broken copy of a sample is refused.
test('the validator refuses what Google would refuse', () => {
  const cls = load('class-full.json');
  const obj = load('object-full.json');
  const patch = load('patch-notify.json');
  const msg = load('message-notify.json');
  const broken = [
    ['LoyaltyClass', { ...cls, programNam: 'x' }, false, /unknown key/],
    ['LoyaltyClass', { ...cls, reviewStatus: 'PENDING' }, false, /not one of/],
    ['LoyaltyClass', { ...cls, reviewStatus: 'underReview' }, false, /deprecated spelling/],
    ['LoyaltyClass', (({ programLogo, ...rest }) => rest)(cls), false, /programLogo: required/],
    ['LoyaltyClass', { ...cls, programLogo: { ...cls.programLogo, sourceUri: { url: 'x' } } }, false, /unknown key/],
    ['LoyaltyClass', { ...cls, merchantLocations: [{ latitude: '55.7', longitude: 37.6 }] }, false, /must be a number/],
    ['LoyaltyClass', { ...cls, linksModuleData: { uris: {} } }, false, /must be an array/],
    ['LoyaltyObject', { ...obj, state: 'active' }, false, /deprecated spelling/],
    ['LoyaltyObject', { ...obj, loyaltyPoints: { label: 'x', balance: { int: 2 ** 31 } } }, false, /int32/],
    ['LoyaltyObject', { ...obj, loyaltyPoints: { label: 'x' } }, false, /balance: required/],
    ['LoyaltyObject', (({ classId, ...rest }) => rest)(obj), false, /classId: required/],
    ['LoyaltyObject', { ...obj, accountName: null }, false, /null outside/],
    ['LoyaltyObject', { ...patch, notifyPreference: 'NOTIFY' }, true, /not one of/],
    ['LoyaltyObject', { ...patch, loyaltyPoints: { balance: { int: 1.5 } } }, true, /integer/],
    ['AddMessageRequest', { message: { ...msg.message, messageType: 'PUSH' } }, false, /not one of/],
    ['AddMessageRequest', { message: { ...msg.message, ttl: 1 } }, false, /unknown key/],
  ];
  for (const [schema, doc, partial, want] of broken) {
    const found = validate(schema, doc, '', { partial });
    assert.ok(found.some((f) => want.test(f)), `expected ${want} for ${JSON.stringify(doc).slice(0, 120)}, got ${JSON.stringify(found)}`);
  }
  assert.ok(ruleFindings('class', { ...cls, reviewStatus: 'APPROVED' }).length > 0);
  assert.ok(ruleFindings('class', { ...cls, textModulesData: [{ id: 'a.b', header: 'h', body: 'b' }] }).length > 0);
  assert.ok(ruleFindings('class', { ...cls, linksModuleData: { uris: [{ uri: '+7 495 123' }] } }).length > 0);
  assert.ok(ruleFindings('object', { ...obj, loyaltyPoints: { label: 'x', balance: { int: 1, string: '1' } } }).length > 0);
  assert.ok(ruleFindings('patch', { ...patch, id: obj.id }).length > 0);
});
