'use strict';
/**
 * Run one Node scenario: `node tests/peers/node_peer.js <scenario> <port> <log.jsonl> [k=v...]`.
 * The scenario module (tests/peers/scenarios/<scenario>.js) exports `run({port, log, opts})`;
 * the log is written when it resolves. Exit code 0 on success, 1 on error or timeout.
 */
const path = require('path');
const { Log } = require('./lib/common');

async function main() {
  const [scenario, portText, logFile, ...rest] = process.argv.slice(2);
  if (!scenario || !portText || !logFile) {
    console.error('usage: node_peer.js <scenario> <port> <log.jsonl> [key=value...]');
    process.exit(2);
  }
  const opts = Object.fromEntries(rest.map((kv) => kv.split('=', 2)));
  const log = new Log(logFile);
  const timeoutMs = Number(opts.timeout_ms || 15000);
  const timer = setTimeout(() => {
    console.error(`${scenario}: timed out after ${timeoutMs} ms`);
    log.write();
    process.exit(1);
  }, timeoutMs);
  const mod = require(path.join(__dirname, 'scenarios', `${scenario}.js`));
  try {
    await mod.run({ port: Number(portText), log, opts });
  } catch (err) {
    console.error(`${scenario}: failed:`, err);
    log.write();
    process.exit(1);
  }
  clearTimeout(timer);
  log.write();
  process.exit(0);
}

main();
