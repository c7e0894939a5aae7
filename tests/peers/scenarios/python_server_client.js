'use strict';
/**
 * Clients of the python_server scenario (socket.io-client 4.8.1 against python-socketio 5.x):
 * "ws" (websocket only) and "poll" (polling only). Each joins "/" and "/py" (auth), sends
 * events with and without ack, binary with a binary ack, answers a server call, and tries
 * "/py" with a wrong token first (CONNECT_ERROR from python-socketio).
 */
const { once, sleep } = require('../lib/common');
const { manager, socket } = require('../lib/v4');

async function exercise(port, log, label, transports) {
  const mgr = manager(port, label, { transports });
  const root = socket(mgr, log, label, '/');
  await root.connected();
  const py = socket(mgr, log, label, '/py', { auth: { token: 'nope' } });
  await py.connected().catch(() => null);
  // the Manager keeps one socket per namespace: retry it with the right token
  py.sock.auth = { token: 'py' };
  py.sock.connect();
  await py.connected();
  for (const s of [root, py]) {
    s.on('server-req', (args, ack) => ack('client answer', Buffer.from([7, 8, 9])));
    s.on('server-done');
    await s.emitAck('chat', 'hello python', { n: 1 });
    s.emit('note', 'no ack');
    await s.emitAck('bin', Buffer.from('binary payload'), { n: 2 });
    const done = once(s.sock, 'server-done');
    s.emit('call-me');
    await done;
  }
  py.sock.disconnect();
  await sleep(30);
  root.sock.disconnect();
  await sleep(50);
}

exports.run = async ({ port, log }) => {
  await exercise(port, log, 'ws', ['websocket']);
  await exercise(port, log, 'poll', ['polling']);
};
