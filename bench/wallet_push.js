// Apple Wallet updates through the whole pipeline: `loy serve` (SQLite, Apple Wallet on, the
// development certificates) pushing to the fake APNs (tests/fakes/apns.js). Two figures:
//   1. latency: a credit through the API until the fake APNs has the push, one card at a time —
//      beside issue 3's budget of 2 s;
//   2. a template change over N cards, each with a registered device: cards pushed per second from
//      the PATCH to the last push — the outbox's apple.refresh batches, a card read and content
//      hash per card, a version write, the push and its record — beside the APNs client alone
//      (bench/apns.sh) as the ceiling.
// Usage: node bench/wallet_push.js [N=2000] [CREDITS=200]   (LOY_BIN: the binary, default build/loy)
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, appleCerts, unpackPkpass, newPhone } from '../tests/http/harness.js';
import { startFakeApns } from '../tests/fakes/apns.js';

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.LOY_BIN ||= path.join(here, '../build/loy');
const N = Number(process.argv[2] || 2000);
const CREDITS = Number(process.argv[3] || 200);

const certs = await appleCerts();
const apns = await startFakeApns({
  caFile: path.join(certs, 'ca.pem'),
  certFile: path.join(certs, 'localhost.pem'),
  keyFile: path.join(certs, 'localhost.key'),
});
const srv = await startServer({ apple: { apnsUrl: apns.url }, env: { LOY_LOG_LEVEL: 'warn' } });
const owner = await srv.owner();
const till = await srv.apiKeyClient('cashier');

async function cardWithDevice() {
  const c = await owner.post('/api/v1/customers', { name: 'Bench', phone: newPhone() });
  if (c.status !== 201) throw new Error(c.text);
  const got = await srv.anon().get(new URL(c.body.walletLinks.apple).pathname);
  const { passJson: p } = await unpackPkpass(got.raw);
  const token = crypto.randomBytes(32).toString('hex');
  const lib = crypto.randomBytes(16).toString('hex');
  const r = await srv.anon().post(`/passkit/v1/devices/${lib}/registrations/${p.passTypeIdentifier}/${p.serialNumber}`, { pushToken: token }, { headers: { Authorization: `ApplePass ${p.authenticationToken}` } });
  if (r.status !== 201) throw new Error(r.text);
  return { id: c.body.id, token };
}

function count200(token) {
  return apns.pushes.filter((p) => p.token === token && p.status === 200).length;
}

// 1. latency, one card
const one = await cardWithDevice();
const lat = [];
for (let i = 0; i < CREDITS; i++) {
  const before = count200(one.token);
  const t0 = process.hrtime.bigint();
  const r = await till.post(`/api/v1/customers/${one.id}/transactions`, { type: 'credit', amount: 1 });
  if (r.status !== 201) throw new Error(r.text);
  await apns.waitFor(() => count200(one.token) > before, 10000);
  lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
lat.sort((a, b) => a - b);
const pct = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(0);

// 2. a template change over N cards
process.stderr.write(`making ${N} cards with a device each...\n`);
const cards = [];
for (let i = 0; i < N; i += 50) {
  cards.push(...(await Promise.all(Array.from({ length: Math.min(50, N - i) }, cardWithDevice))));
}
const tokens = new Set(cards.map((c) => c.token));
const seen = new Set();
const from = apns.pushes.length;
const t0 = Date.now();
const tpl = await owner.post('/api/v1/templates', { name: 'Bench', isDefault: true, design: { backgroundColor: '#224466', foregroundColor: '#ffffff', labelColor: '#dddddd' } });
if (tpl.status !== 201) throw new Error(tpl.text);
await apns.waitFor((ps) => {
  for (let i = from; i < ps.length; i++) if (ps[i].status === 200 && tokens.has(ps[i].token)) seen.add(ps[i].token);
  return seen.size === tokens.size;
}, 600000);
const secs = (Date.now() - t0) / 1000;

console.log(`credit → push (one card, ${CREDITS} credits): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${lat.at(-1).toFixed(0)} ms   budget (issue 3): 2000 ms`);
console.log(`template change → every card pushed: ${N} cards in ${secs.toFixed(1)} s = ${(N / secs).toFixed(0)} cards/s   ceiling: the APNs client alone, bench/apns.sh (15 242 pushes/s measured)`);
await srv.stop();
await apns.stop();
