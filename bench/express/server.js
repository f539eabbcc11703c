// The peer the seed would have shipped: an Express hello-world JSON server, one Node process.
// Binds 127.0.0.1 on PORT (default 0: any free port) and prints "port=N" once listening.
'use strict';
const express = require('express');

const app = express();
app.get('/', (req, res) => res.json({ hello: 'world' }));

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`port=${server.address().port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
