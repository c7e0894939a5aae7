'use strict';
/**
 * Shared body of v2_ws and v2_polling: socket.io 2.5.1 server, socket.io-client 2.5.0 client
 * (Socket.IO protocol 4 over Engine.IO 3). Events and acks both ways, binary events and binary
 * acks, and a namespace "/room" joined with a query string (CONNECT "40/room?token=abc,").
 */
const { once, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v2');

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 5 + seed) & 0xff));

exports.runV2 = async ({ port, log, label, transports, serverOpts = {}, waitPings = 0 }) => {
  const srv = await startServer(port, serverOpts);
  const setup = (p) => {
    p.on('chat', (args, ack) => ack && ack('ok', p.nsp));
    p.on('bin', (args, ack) => ack && ack({ len: args[0].length }, Buffer.from(args[0]).reverse()));
    p.on('note');
    p.on('call-me', async () => {
      const [a] = await p.emitAck('server-req', 'value?', bytes(4, 1));
      p.emit('server-done', a, bytes(6, 2));
    });
  };
  serve(srv.io.of('/'), log, setup);
  serve(srv.io.of('/room'), log, setup);

  const mgr = manager(port, label, { transports });
  const root = socket(mgr, log, label, '/');
  await root.connected();
  const room = socket(mgr, log, label, '/room', { query: { token: 'abc', lang: 'en' } });
  await room.connected();
  for (const s of [root, room]) {
    s.on('server-req', (args, ack) => ack('client answer', bytes(3, 9)));
    s.on('server-done');
    await s.emitAck('chat', 'héllo €', { n: 1 });
    s.emit('note', 'no ack');
    await s.emitAck('bin', bytes(10, 3), { nested: [bytes(2, 4)] });
    const done = once(s.sock, 'server-done');
    s.emit('call-me');
    await done;
  }
  for (let i = 0; i < waitPings; i++) await once(mgr.engine, 'pong');
  room.sock.disconnect();
  await sleep(50);
  root.sock.disconnect();
  await sleep(50);
  await srv.close();
};
