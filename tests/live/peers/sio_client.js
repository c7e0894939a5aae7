'use strict';
/**
 * A real socket.io-client 4.8.1 scenario: `node sio_client.js URL [websocket|polling|default]`.
 * Prints one JSON object with what the application saw (acks, events, transports,
 * reconnection, namespace results); the tests compare it with and without the proxy.
 */
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const { io } = require(path.join(NODE_MODULES, 'socket.io-client'));

// IOPROTO_PEER_PARSER=msgpack: socket.io-msgpack-parser, to talk to a server that uses it.
const parser = process.env.IOPROTO_PEER_PARSER === 'msgpack'
  ? { parser: require(path.join(NODE_MODULES, 'socket.io-msgpack-parser')) } : {};
const url = process.argv[2];
const mode = process.argv[3] || 'default';
const transports = mode === 'websocket' ? ['websocket'] : mode === 'polling' ? ['polling'] : ['polling', 'websocket'];

const once = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const step = (s) => { if (process.env.DEBUG_STEPS) console.error("step", s); };
  const out = {};
  const socket = io(url, { transports, reconnectionDelay: 50, reconnectionDelayMax: 100, ...parser });
  socket.io.once('open', () => { out.initial_transport = socket.io.engine.transport.name; });
  await once(socket, 'connect');
  if (mode === 'default') {
    if (socket.io.engine.transport.name !== 'websocket') await once(socket.io.engine, 'upgrade');
  }
  out.transport = socket.io.engine.transport.name;
  step('echo');
  out.echo = await socket.emitWithAck('echo', 'hello', { n: 1, list: [1, 'two', null] });
  out.unicode = await socket.emitWithAck('echo', 'h\u00e9llo \u{1F600} \u2028');
  const bin = await socket.emitWithAck('binary', Buffer.from([1, 2, 3, 250]));
  out.binary = Array.from(Buffer.from(bin));
  out.big = (await socket.emitWithAck('echo', 'x'.repeat(60000)))[0].length;
  const answered = once(socket, 'answer-received');
  socket.once('question', (q, ack) => { out.question = q; ack(42); });
  socket.emit('ask');
  out.answer = await answered;
  for (let i = 0; i < 10; i++) socket.emit('count', i);
  out.total = await socket.emitWithAck('total');

  step('admin');
  const admin = io(url + '/admin', { transports, auth: { token: 's3cret' }, ...parser });
  await once(admin, 'connect');
  out.admin = await admin.emitWithAck('stats');
  const denied = io(url + '/admin', { transports, auth: { token: 'nope' }, ...parser });
  out.denied = (await once(denied, 'connect_error')).message;
  denied.close();

  step('drop');
  const reconnected = once(socket, 'connect');
  const reason = once(socket, 'disconnect');
  socket.io.engine.close(); // as if the connection dropped: the manager reconnects
  out.disconnect_reason = await reason;
  await reconnected;
  step('after');
  out.after_reconnect = await socket.emitWithAck('echo', 'again');
  admin.close();
  socket.close();
  await sleep(20);
  console.log(JSON.stringify(out));
  process.exit(0);
}
setTimeout(() => { console.error('timeout'); process.exit(3); }, 20000);
main().catch((e) => { console.error(e); process.exit(2); });
