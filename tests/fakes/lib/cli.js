// The command-line side shared by the fakes (`node tests/fakes/apns.js …`): argument parsing, the
// control loop (one JSON object a line on stdin), a bounded record in long runs, and shutdown on
// SIGINT/SIGTERM. What each option and command means stays in the fake. Node built-ins only.

import readline from 'node:readline';
import { pathToFileURL } from 'node:url';

/**
 * Parse argv. `values` maps an option that takes a value to a key of the result (the value as a
 * string), to [key, convert], or to a function (o, value); `flags` maps an option without a value to
 * the fields it sets. -h/--help sets `help`. Throws on an unknown option or a missing value.
 */
export function parseArgs(argv, { values = {}, flags = {} }, o = {}) {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (Object.hasOwn(values, a)) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      const v = argv[++i];
      const to = values[a];
      if (typeof to === 'function') to(o, v);
      else if (Array.isArray(to)) o[to[0]] = to[1](v);
      else o[to] = v;
    } else if (Object.hasOwn(flags, a)) {
      Object.assign(o, flags[a]);
    } else if (a === '-h' || a === '--help') {
      o.help = true;
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  return o;
}

/**
 * parseArgs for main(): on a bad argument, the error and the usage on stderr, exit 2; with --help or
 * when `ready(o)` is false, the usage, exit 0 (help) or 2.
 */
export function argsOrExit(usage, spec, ready, init = {}) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2), spec, init);
  } catch (e) {
    process.stderr.write(`${e.message}\n${usage}\n`);
    process.exit(2);
  }
  if (o.help || !ready(o)) {
    process.stderr.write(`${usage}\n`);
    process.exit(o.help ? 0 : 2);
  }
  return o;
}

/** One JSON line on stdout. */
export function printJson(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Keep a record array bounded in a long run (the command line prints each request instead). */
export function trimRecords(records) {
  const trim = setInterval(() => {
    if (records.length > 10000) records.splice(0, records.length - 1000);
  }, 1000);
  trim.unref();
}

/**
 * Read control commands from stdin, one JSON object a line, and hand each to `onCommand` (an error is
 * reported on stderr as "control: …"); stop the fake and exit 0 on SIGINT or SIGTERM.
 */
export function serveControl(fake, onCommand) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    if (!line.trim()) return;
    try {
      onCommand(JSON.parse(line));
    } catch (e) {
      process.stderr.write(`control: ${e.message}\n`);
    }
  });
  const shutdown = async () => {
    await fake.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/** Run main() when the module `metaUrl` is the script node was started with. */
export function runIfMain(metaUrl, main) {
  if (process.argv[1] && metaUrl === pathToFileURL(process.argv[1]).href) {
    main().catch((e) => {
      process.stderr.write(`${e.stack || e}\n`);
      process.exit(1);
    });
  }
}
