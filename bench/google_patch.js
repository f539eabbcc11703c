// Google Wallet object patches per second through the whole pipeline: `loy serve` (SQLite, Google
// Wallet on) and the fake Google (tests/fakes/google.js, its 20 requests/s limit on). N customers,
// each with an object at Google, get one credit each at once; the figure is balances patched per
// second from the first credit to the last patch, beside Google's limit of 20 requests/s and
// LOY_GOOGLE_RATE; then the connections Loy opened to Google, the access tokens it fetched and the
// calls made per token, and any 429 the fake had to send (it should be none).
// Usage: node bench/google_patch.js [N=300] [RATE=15]   (LOY_BIN: the binary, default build/loy)
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startServer, newPhone } from '../tests/http/harness.js';
import { startFakeGoogle, makeServiceAccount } from '../tests/fakes/google.js';

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.LOY_BIN ||= path.join(here, '../build/loy');
const N = Number(process.argv[2] || 300);
const RATE = Number(process.argv[3] || 15);
const ISSUER = '3388000000012345678';

const sa = makeServiceAccount();
const g = await startFakeGoogle({ serviceAccountPublicKeyPem: sa.publicKeyPem, serviceAccountEmail: sa.email, issuerId: ISSUER });
const dir = mkdtempSync(path.join(tmpdir(), 'loy-gbench-'));
sa.writeKeyFile(path.join(dir, 'sa.json'), g.tokenUri);
const srv = await startServer({
  env: {
    LOY_GOOGLE_ISSUER_ID: ISSUER, LOY_GOOGLE_KEY_FILE: path.join(dir, 'sa.json'), LOY_GOOGLE_API_URL: g.url,
    LOY_GOOGLE_RATE: String(RATE), LOY_LOG_LEVEL: 'warn',
  },
});
const owner = await srv.owner();
const till = await srv.apiKeyClient('cashier');

process.stderr.write(`making ${N} customers (each object inserted at Google)...\n`);
const customers = [];
for (let i = 0; i < N; i += 25) {
  customers.push(...(await Promise.all(Array.from({ length: Math.min(25, N - i) }, async () => {
    const c = await owner.post('/api/v1/customers', { name: 'Bench', phone: newPhone() });
    if (c.status !== 201) throw new Error(c.text);
    return c.body;
  }))));
}
const byCard = new Map(customers.map((c) => [c.cardNumber, c]));
const inserted = () => [...g.state.objects.values()].filter((o) => byCard.has(o.accountId)).length;
await g.waitFor(() => inserted() === N, 600000);

const want = new Map();
const t0 = Date.now();
await Promise.all(customers.map(async (c) => {
  const r = await till.post(`/api/v1/customers/${c.id}/transactions`, { type: 'credit', amount: 7 });
  if (r.status !== 201) throw new Error(r.text);
  want.set(c.cardNumber, r.body.balanceAfter);
}));
await g.waitFor(() => [...g.state.objects.values()].filter((o) => want.get(o.accountId) === o.loyaltyPoints?.balance?.int).length === N, 600000);
const secs = (Date.now() - t0) / 1000;
const st = g.stats();

console.log(`object patches: ${N} balances in ${secs.toFixed(1)} s = ${(N / secs).toFixed(1)} patches/s   limit: Google 20 requests/s, LOY_GOOGLE_RATE ${RATE}`);
console.log(`over the whole run (inserts too): connections to Google: ${st.connections} opened, at most ${st.peakConnections} at once, ${st.peakInFlight} calls in flight at most, peak ${st.peakPerSecond} requests in a second; access tokens fetched: ${st.tokensIssued}; calls per token: ${st.callsPerToken.join(', ')}; 429s from the fake's 20/s limit: ${st.rateLimited}`);
await srv.stop();
await g.stop();
rmSync(dir, { recursive: true, force: true });
