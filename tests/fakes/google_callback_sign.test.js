// Checks the callback signer (google_callback_sign.js) against node:crypto's own verify, with the
// length-value framing rewritten here independently, so that the signer is not checked against
// itself: node --test tests/fakes/google_callback_sign.test.js
// (The C verifier, src/crypto/google_callback.c, is checked against the signer by
// tests/unit/test_google_crypto.c.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { makeRootKeys, keysDocument, signCallback } from './google_callback_sign.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ISSUER = '3388000000012345678';

// lv(...) written another way: one buffer sized up front, lengths through a DataView.
function framed(...strings) {
	const bytes = strings.map((s) => new TextEncoder().encode(s));
	const out = new Uint8Array(bytes.reduce((n, b) => n + 4 + b.length, 0));
	const view = new DataView(out.buffer);
	let at = 0;
	for (const b of bytes) {
		view.setUint32(at, b.length, true);
		out.set(b, at + 4);
		at += 4 + b.length;
	}
	return out;
}

function spki(b64) {
	return crypto.createPublicKey({ key: Buffer.from(b64, 'base64'), format: 'der', type: 'spki' });
}

// Verifies a body the way the spec (§2.8) says a recipient must; returns the message, or throws.
function verifyLikeGoogleSays(body, keysJson, issuerId, senderId) {
	const env = JSON.parse(body);
	assert.equal(env.protocolVersion, 'ECv2SigningOnly');
	const roots = JSON.parse(keysJson).keys.filter(
		(k) => k.protocolVersion === 'ECv2SigningOnly' && Number(k.keyExpiration) > Date.now(),
	);
	const keyData = framed(senderId, 'ECv2SigningOnly', env.intermediateSigningKey.signedKey);
	const rootOk = env.intermediateSigningKey.signatures.some((sig) =>
		roots.some((k) => crypto.verify('sha256', keyData, spki(k.keyValue), Buffer.from(sig, 'base64'))),
	);
	if (!rootOk) throw new Error('intermediate key signature');
	const signedKey = JSON.parse(env.intermediateSigningKey.signedKey);
	if (!(Number(signedKey.keyExpiration) > Date.now())) throw new Error('intermediate key expired');
	const msgData = framed(senderId, issuerId, 'ECv2SigningOnly', env.signedMessage);
	if (!crypto.verify('sha256', msgData, spki(signedKey.keyValue), Buffer.from(env.signature, 'base64')))
		throw new Error('message signature');
	return JSON.parse(env.signedMessage);
}

test('the keys document is Google\'s shape: a P-256 SPKI key, the protocol, the expiry as a string', () => {
	const expiry = Date.now() + 1000 * 3600;
	const root = makeRootKeys({ keyExpiration: expiry });
	const doc = JSON.parse(root.keysJson);
	assert.deepEqual(Object.keys(doc), ['keys']);
	assert.equal(doc.keys.length, 1);
	const [k] = doc.keys;
	assert.deepEqual(Object.keys(k).sort(), ['keyExpiration', 'keyValue', 'protocolVersion']);
	assert.equal(k.protocolVersion, 'ECv2SigningOnly');
	assert.equal(k.keyExpiration, String(expiry));
	const pub = spki(k.keyValue);
	assert.equal(pub.asymmetricKeyType, 'ec');
	assert.equal(pub.asymmetricKeyDetails.namedCurve, 'prime256v1');
	// the published key is the private key's
	const sig = crypto.sign('sha256', Buffer.from('x'), root.privateKey);
	assert.ok(crypto.verify('sha256', Buffer.from('x'), pub, sig));
	const two = JSON.parse(keysDocument(root, makeRootKeys()));
	assert.equal(two.keys.length, 2);
});

test('a callback verifies with node:crypto, for the message that was given', () => {
	const root = makeRootKeys();
	const exp = Date.now() + 60000;
	const body = signCallback({
		root,
		issuerId: ISSUER,
		classId: `${ISSUER}.gold`,
		objectId: `${ISSUER}.cust-42`,
		eventType: 'del',
		nonce: 'n-1',
		expTimeMillis: exp,
	});
	const env = JSON.parse(body);
	assert.deepEqual(Object.keys(env).sort(), ['intermediateSigningKey', 'protocolVersion', 'signature', 'signedMessage']);
	assert.equal(typeof env.intermediateSigningKey.signedKey, 'string');
	assert.match(env.signature, /^[A-Za-z0-9+/]+=*$/);
	const msg = verifyLikeGoogleSays(body, root.keysJson, ISSUER, 'GooglePayPasses');
	assert.deepEqual(msg, {
		classId: `${ISSUER}.gold`,
		objectId: `${ISSUER}.cust-42`,
		eventType: 'del',
		expTimeMillis: exp,
		nonce: 'n-1',
	});
	const signedKey = JSON.parse(env.intermediateSigningKey.signedKey);
	assert.equal(spki(signedKey.keyValue).asymmetricKeyDetails.namedCurve, 'prime256v1');
	assert.match(signedKey.keyExpiration, /^\d+$/);
});

test('the chain is bound to its sender id, issuer id, root and bytes', () => {
	const root = makeRootKeys();
	const args = { root, issuerId: ISSUER, classId: 'c', objectId: 'o', nonce: 'n' };
	const body = signCallback(args);
	assert.throws(() => verifyLikeGoogleSays(body, root.keysJson, ISSUER, 'GoogleWalletPasses'), /intermediate/);
	assert.throws(() => verifyLikeGoogleSays(body, root.keysJson, '3388000000099999999', 'GooglePayPasses'), /message/);
	assert.throws(() => verifyLikeGoogleSays(body, makeRootKeys().keysJson, ISSUER, 'GooglePayPasses'), /intermediate/);
	const env = JSON.parse(body);
	env.signedMessage = env.signedMessage.replace('"o"', '"p"');
	assert.throws(() => verifyLikeGoogleSays(JSON.stringify(env), root.keysJson, ISSUER, 'GooglePayPasses'), /message/);

	const newer = signCallback({ ...args, senderId: 'GoogleWalletPasses' });
	assert.equal(verifyLikeGoogleSays(newer, root.keysJson, ISSUER, 'GoogleWalletPasses').objectId, 'o');
	assert.throws(() => verifyLikeGoogleSays(newer, root.keysJson, ISSUER, 'GooglePayPasses'), /intermediate/);
});

test('each callback gets its own intermediate key and a fresh nonce by default', () => {
	const root = makeRootKeys();
	const a = JSON.parse(signCallback({ root, issuerId: ISSUER, classId: 'c', objectId: 'o' }));
	const b = JSON.parse(signCallback({ root, issuerId: ISSUER, classId: 'c', objectId: 'o' }));
	assert.notEqual(a.intermediateSigningKey.signedKey, b.intermediateSigningKey.signedKey);
	assert.notEqual(JSON.parse(a.signedMessage).nonce, JSON.parse(b.signedMessage).nonce);
	assert.ok(JSON.parse(a.signedMessage).expTimeMillis > Date.now());
});

test('test options: an expired intermediate key, another protocol, a message of our own', () => {
	const root = makeRootKeys();
	const base = { root, issuerId: ISSUER, classId: 'c', objectId: 'o', nonce: 'n' };
	const old = signCallback({ ...base, intermediateExpiration: Date.now() - 1 });
	assert.throws(() => verifyLikeGoogleSays(old, root.keysJson, ISSUER, 'GooglePayPasses'), /expired/);
	const v1 = JSON.parse(signCallback({ ...base, protocolVersion: 'ECv2' }));
	assert.equal(v1.protocolVersion, 'ECv2');
	const data = framed('GooglePayPasses', 'ECv2', v1.intermediateSigningKey.signedKey);
	assert.ok(crypto.verify('sha256', data, root.publicKey, Buffer.from(v1.intermediateSigningKey.signatures[0], 'base64')));
	const own = signCallback({ ...base, message: { classId: 'c', eventType: 'save' } });
	assert.deepEqual(verifyLikeGoogleSays(own, root.keysJson, ISSUER, 'GooglePayPasses'), { classId: 'c', eventType: 'save' });
	assert.throws(() => signCallback({ issuerId: ISSUER }), /root/);
});

test('the command prints keys and bodies from a spec', () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gcb-'));
	const spec = path.join(dir, 'spec.json');
	const now = Date.now();
	fs.writeFileSync(
		spec,
		JSON.stringify({
			issuerId: ISSUER,
			roots: { main: {}, old: { keyExpiration: now - 1 } },
			callbacks: {
				save: { root: 'main', classId: 'c', objectId: 'o', nonce: 'n1', expTimeMillis: now + 60000 },
				del: { root: 'old', classId: 'c', objectId: 'o', eventType: 'del', nonce: 'n2' },
			},
		}),
	);
	const out = JSON.parse(execFileSync('node', [path.join(HERE, 'google_callback_sign.js'), spec], { encoding: 'utf8' }));
	fs.rmSync(dir, { recursive: true });
	assert.deepEqual(Object.keys(out.keys).sort(), ['main', 'old']);
	assert.equal(JSON.parse(out.keys.old).keys[0].keyExpiration, String(now - 1));
	assert.equal(verifyLikeGoogleSays(out.bodies.save, out.keys.main, ISSUER, 'GooglePayPasses').nonce, 'n1');
	assert.throws(() => verifyLikeGoogleSays(out.bodies.del, out.keys.old, ISSUER, 'GooglePayPasses'), /intermediate/);
});
