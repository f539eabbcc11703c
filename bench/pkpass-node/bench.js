// The peer in bench/pkpass.sh: passkit-generator building and signing the same store card as
// bench/pkpass.c on the same development certificates — a pass.json with a new balance, the same
// nine default images, manifest, signature, zip — as many times as it can in SECONDS.
//   node bench.js MODEL_DIR CERT_DIR SECONDS [FIRST.pkpass]
// MODEL_DIR holds an unpacked .pkpass from Loy (its manifest.json and signature are ignored).
// Prints "per_s=N" (per CPU-second); writes the first pass it makes to FIRST.pkpass when given,
// so that the script can check it verifies like Loy's.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { PKPass } = require("passkit-generator");

const [modelDir, certDir, secondsArg, firstOut] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!modelDir || !certDir || !(seconds > 0)) {
	console.error("usage: node bench.js MODEL_DIR CERT_DIR SECONDS [FIRST.pkpass]");
	process.exit(2);
}

const files = {};
for (const name of fs.readdirSync(modelDir)) {
	if (name !== "manifest.json" && name !== "signature")
		files[name] = fs.readFileSync(path.join(modelDir, name));
}
const model = JSON.parse(files["pass.json"]);
const certificates = {
	wwdr: fs.readFileSync(path.join(certDir, "wwdr.pem")),
	signerCert: fs.readFileSync(path.join(certDir, "pass.pem")),
	signerKey: fs.readFileSync(path.join(certDir, "pass.key")),
};

function onePass(i) {
	model.storeCard.primaryFields[0].value = 1000 + i;
	const pass = new PKPass({ ...files, "pass.json": Buffer.from(JSON.stringify(model)) },
		certificates);
	return pass.getAsBuffer();
}

if (firstOut)
	fs.writeFileSync(firstOut, onePass(0));
// Per CPU-second of the whole process (user + system, every thread: the garbage collector's too),
// as bench/pkpass.c counts Loy's and `openssl speed` counts RSA's.
const cpu = () => {
	const u = process.cpuUsage();
	return (u.user + u.system) / 1e6;
};
let n = 0;
const t0 = cpu();
let t;
do {
	onePass(n++);
	t = cpu() - t0;
} while (t < seconds);
console.log(`per_s=${(n / t).toFixed(1)}`);
