// The fake APNs' own ceiling for bench/apns.sh: POSTs per second it answers on one connection, from
// Node's own HTTP/2 client with the pass certificate (h2load cannot present a client certificate,
// and the fake requires one). Same requests as Loy's: POST /3/device/<token>, apns-topic, body {}.
//   node bench/apns_fake_client.js URL CERTDIR [N] [IN_FLIGHT]
// Prints "req_per_s=R ok=K of=N".
import http2 from 'node:http2';
import fs from 'node:fs';
import crypto from 'node:crypto';

const [url, dir, nArg = '20000', mArg = '500'] = process.argv.slice(2);
if (!url || !dir) {
  process.stderr.write('usage: node bench/apns_fake_client.js URL CERTDIR [N] [IN_FLIGHT]\n');
  process.exit(2);
}
const n = Number(nArg);
const inFlight = Number(mArg);
const client = http2.connect(url, {
  ca: fs.readFileSync(`${dir}/ca.pem`),
  cert: Buffer.concat([fs.readFileSync(`${dir}/pass.pem`), fs.readFileSync(`${dir}/wwdr.pem`)]),
  key: fs.readFileSync(`${dir}/pass.key`),
});
client.on('error', (e) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
const token = crypto.randomBytes(32).toString('hex');
let sent = 0;
let done = 0;
let ok = 0;
let t0;

function one() {
  if (sent >= n) return;
  sent += 1;
  const req = client.request({ ':method': 'POST', ':path': `/3/device/${token}`, 'apns-topic': 'pass.dev.loy.demo' });
  req.on('response', (h) => {
    if (h[':status'] === 200) ok += 1;
  });
  req.on('error', () => {});
  req.on('close', () => {
    done += 1;
    if (done === n) finish();
    else one();
  });
  req.end('{}');
}

function finish() {
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`req_per_s=${Math.round(n / s)} ok=${ok} of=${n}\n`);
  client.close();
}

client.once('remoteSettings', () => {
  t0 = process.hrtime.bigint();
  for (let i = 0; i < inFlight; i++) one();
});
