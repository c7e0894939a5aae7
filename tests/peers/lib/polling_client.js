'use strict';
/**
 * A socket.io-client 4.8.1 client over polling only, run as a process of its own so that a
 * scenario can kill it: `node polling_client.js <port> <label> <log.jsonl>` connects, emits
 * `hello` with an ack, writes its log and prints `READY` once the ack came, and then waits (its
 * next long poll pending) until it is killed.
 */
const { manager, socket } = require('./v4');
const { Log } = require('./common');

async function main() {
  const [portText, label, logFile] = process.argv.slice(2);
  const log = new Log(logFile);
  const c = socket(manager(Number(portText), label, { transports: ['polling'] }), log, label);
  await c.connected();
  await c.emitAck('hello', 'from ' + label);
  log.write();
  console.log('READY');
  setInterval(() => {}, 1 << 30);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
