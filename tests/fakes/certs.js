// Test certificates made with the openssl command line, shaped like `loy certs dev --out DIR`:
// ca.pem (root) → wwdr.pem (intermediate, CA:TRUE) → pass.pem/pass.key (client, subject
// UID=<pass type id>, CN=Pass Type ID: <id>, OU=<team>), and localhost.pem/localhost.key (server,
// signed by the root, SAN DNS:localhost, IP:127.0.0.1, IP:::1).
//
// makeDevCerts(dir, opts) writes those six files (plus the CA keys, for makeLeaf) and returns their
// paths. makeLeaf(...) issues more certificates (another pass type, several UIDs, another CA).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function writeExt(dir, name, lines) {
  const f = path.join(dir, name);
  fs.writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

const KEY = { rsa: ['-newkey', 'rsa:2048'], ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] };

/** A self-signed root CA: `${name}.pem`, `${name}.key`. */
export function makeRoot(dir, name, cn, { keyType = 'rsa' } = {}) {
  const ext = writeExt(dir, `${name}.cnf`, [
    '[req]', 'distinguished_name=dn', '[dn]', '[v3]',
    'basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier=hash',
  ]);
  openssl(['req', '-x509', ...KEY[keyType], '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '3650', '-subj', `/CN=${cn}/O=Loy Dev`, '-config', ext, '-extensions', 'v3'], dir);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/**
 * Issue `${name}.pem` / `${name}.key` signed by issuer ({cert, key}).
 * kind: 'intermediate' | 'client' | 'server'. subj: openssl -subj string.
 */
export function makeLeaf(dir, name, subj, issuer, kind, { keyType = 'rsa', days = 365 } = {}) {
  const ext = {
    intermediate: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
    // Apple's Pass Type ID certificates sign passes (S/MIME) and authenticate to APNs (TLS client)
    client: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=clientAuth,emailProtection', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
    server: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'],
  }[kind];
  const extFile = writeExt(dir, `${name}.ext`, ext);
  openssl(['req', ...KEY[keyType], '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj], dir);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial',
    `0x${Date.now().toString(16)}${Math.floor(Math.random() * 1e6).toString(16)}`, '-out', `${name}.pem`,
    '-days', String(days), '-extfile', extFile], dir);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/** The `loy certs dev` set. Returns paths, plus the CA keys as `root` / `wwdr` ({cert, key}). */
export function makeDevCerts(dir, { passTypeId = 'pass.dev.loy.demo', teamId = 'LOYDEV0001' } = {}) {
  const root = makeRoot(dir, 'ca', 'Loy Development Root CA');
  const wwdr = makeLeaf(dir, 'wwdr', '/CN=Loy Development WWDR Intermediate/OU=G4/O=Loy Dev', root, 'intermediate');
  makeLeaf(dir, 'pass', `/UID=${passTypeId}/CN=Pass Type ID: ${passTypeId}/OU=${teamId}/O=Loy Dev/C=US`, wwdr, 'client');
  makeLeaf(dir, 'localhost', '/CN=localhost/O=Loy Dev', root, 'server');
  const p = (f) => path.join(dir, f);
  return {
    dir,
    ca: p('ca.pem'),
    wwdr: p('wwdr.pem'),
    pass: p('pass.pem'),
    passKey: p('pass.key'),
    localhost: p('localhost.pem'),
    localhostKey: p('localhost.key'),
    root,
    wwdrCa: wwdr,
  };
}
