// Signs Google Wallet save/delete callbacks exactly as Google does (ECv2SigningOnly), for the fake
// Google (tests/fakes/google.js) and the unit test of Loy's verifier (tests/unit/test_google_crypto.c).
//
// The scheme (../../../shared/specs/google-wallet.md §2.8; Tink's PaymentMethodTokenRecipient):
// a root key, published in Google's keys document, signs an intermediate key; the intermediate key
// signs the message. Every signature is ECDSA P-256 over SHA-256, DER, in standard base64, over
//   root → intermediate:    lv(senderId) lv(protocolVersion) lv(signedKey)
//   intermediate → message: lv(senderId) lv(issuerId) lv(protocolVersion) lv(signedMessage)
// where lv(x) is the UTF-8 byte length of x as a uint32 little-endian, then those bytes.
//
// As a module:
//   const root = makeRootKeys();                 // { privateKey, publicKey, key, keysJson }
//   serve root.keysJson at the keys URL
//   const body = signCallback({ root, issuerId, classId, objectId, eventType: 'save', nonce,
//                               expTimeMillis, senderId: 'GooglePayPasses' });
//
// As a command, for the C test (node tests/fakes/google_callback_sign.js SPEC.json, or - for
// stdin): SPEC is {"issuerId", "roots": {name: makeRootKeys options}, "callbacks": {name:
// signCallback options, with "root": a root's name}}; it prints {"keys": {name: keysJson},
// "bodies": {name: body}}.
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROTOCOL = 'ECv2SigningOnly';
// The sender id of most of Google's pages and all third-party verifiers, then that of the newer
// pages (the spec, §2.8: the docs disagree).
export const SENDER_IDS = ['GooglePayPasses', 'GoogleWalletPasses'];

const DAY_MS = 24 * 3600 * 1000;

export function lv(...parts) {
	const out = [];
	for (const p of parts) {
		const bytes = Buffer.from(String(p), 'utf8');
		const len = Buffer.alloc(4);
		len.writeUInt32LE(bytes.length);
		out.push(len, bytes);
	}
	return Buffer.concat(out);
}

function newP256() {
	return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function spkiBase64(publicKey) {
	return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

// A root key pair and its keys document, as https://pay.google.com/gp/m/issuer/keys serves it:
// {"keys":[{"keyValue": base64 SPKI DER, "protocolVersion", "keyExpiration": ms as a string}]}.
export function makeRootKeys({ keyExpiration = Date.now() + 365 * DAY_MS, protocolVersion = PROTOCOL } = {}) {
	const { privateKey, publicKey } = newP256();
	const key = { keyValue: spkiBase64(publicKey), protocolVersion, keyExpiration: String(keyExpiration) };
	return { privateKey, publicKey, key, keysJson: JSON.stringify({ keys: [key] }) };
}

// One keys document listing several roots' keys (Google lists the current and the next).
export function keysDocument(...roots) {
	return JSON.stringify({ keys: roots.map((r) => r.key) });
}

// A callback body (the JSON string Google POSTs) signed with root for issuerId. Beyond Google's
// fields, for tests: protocolVersion, intermediateExpiration (ms), message (the object to sign
// instead of the five fields), signedMessage (the exact string to sign instead).
export function signCallback({
	root,
	issuerId,
	classId,
	objectId,
	eventType = 'save',
	nonce = randomUUID(),
	expTimeMillis = Date.now() + 10 * 60 * 1000,
	senderId = SENDER_IDS[0],
	protocolVersion = PROTOCOL,
	intermediateExpiration = Date.now() + DAY_MS,
	message,
	signedMessage,
}) {
	if (!root?.privateKey) throw new TypeError('signCallback: root must come from makeRootKeys()');
	if (typeof issuerId !== 'string') throw new TypeError('signCallback: issuerId must be a string');
	const intermediate = newP256();
	const signedKey = JSON.stringify({
		keyValue: spkiBase64(intermediate.publicKey),
		keyExpiration: String(intermediateExpiration),
	});
	const keySignature = sign('sha256', lv(senderId, protocolVersion, signedKey), root.privateKey);
	const text =
		signedMessage ?? JSON.stringify(message ?? { classId, objectId, eventType, expTimeMillis, nonce });
	const signature = sign('sha256', lv(senderId, issuerId, protocolVersion, text), intermediate.privateKey);
	return JSON.stringify({
		signature: signature.toString('base64'),
		intermediateSigningKey: { signedKey, signatures: [keySignature.toString('base64')] },
		protocolVersion,
		signedMessage: text,
	});
}

function main(specPath) {
	const spec = JSON.parse(readFileSync(specPath === '-' ? 0 : specPath, 'utf8'));
	const roots = {};
	const keys = {};
	for (const [name, opts] of Object.entries(spec.roots ?? {})) {
		roots[name] = makeRootKeys(opts);
		keys[name] = roots[name].keysJson;
	}
	const bodies = {};
	for (const [name, opts] of Object.entries(spec.callbacks ?? {})) {
		const root = roots[opts.root];
		if (!root) throw new Error(`callback ${name}: no root named ${opts.root}`);
		bodies[name] = signCallback({ issuerId: spec.issuerId, ...opts, root });
	}
	process.stdout.write(JSON.stringify({ keys, bodies }) + '\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	if (process.argv.length !== 3) {
		process.stderr.write('usage: node google_callback_sign.js SPEC.json|-\n');
		process.exit(2);
	}
	main(process.argv[2]);
}
