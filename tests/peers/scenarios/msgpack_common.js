'use strict';
/**
 * The application exchange shared by the msgpack scenarios (msgpack_ws, msgpack_polling,
 * msgpack_default_ws): the same server handlers and client actions, run with
 * socket.io-msgpack-parser 3.0.2 on both sides, or with the default parser, so that the
 * captures can be compared packet for packet (tests/msgpack/test_msgpack_captures.py).
 *
 * It covers: CONNECT with an auth payload on /admin, a CONNECT_ERROR ("invalid") from a
 * middleware, events with and without acks both ways, an empty array, nested objects, floats,
 * negative and large integers, a Buffer, a Uint8Array (msgpack: ext type 0), non-ASCII text.
 */
const { once, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 5 + seed) & 0xff));

/** Run the exchange; `parser` is the socket.io-msgpack-parser module or undefined (default). */
async function exchange({ port, log, label, transports, parser }) {
  const parserOpts = parser ? { parser } : {};
  const srv = await startServer(port, { ...parserOpts, pingInterval: 2000 });
  serve(srv.io.of('/'), log, (p) => {
    p.on('chat', (args, ack) => ack && ack({ ok: true, echo: args[0], n: -7, big: 2 ** 40 }));
    p.on('blob', (args, ack) => ack && ack(Buffer.from(args[0]).reverse(), { size: args[0].length }));
    p.on('note');
    p.on('ask-me', async () => {
      const [answer] = await p.emitAck('question', 'what is 6*7?', []);
      p.emit('answer-received', answer, { pi: 3.25, list: [1, 'two', null, true] });
    });
  });
  const admin = srv.io.of('/admin');
  admin.use((s, next) => (s.handshake.auth.token === 's3cret' ? next() : next(new Error('invalid'))));
  serve(admin, log, (p) => {
    p.on('stats', (args, ack) => ack && ack({ users: 1, uptime: 42.5, tag: 'héllo €' }));
  });

  const mgr = manager(port, label, { transports, ...parserOpts });
  const main = socket(mgr, log, label, '/');
  await main.connected();
  await main.emitAck('chat', 'hello', { n: 1, nested: { deep: [1, [2, [3]]] } });
  await main.emitAck('blob', bytes(12, 3));
  main.emit('note', 'fire-and-forget', [], new Uint8Array([1, 2, 3]), '');
  main.on('question', (args, ack) => ack(42));
  const done = once(main.sock, 'answer-received');
  main.on('answer-received');
  main.emit('ask-me');
  await done;
  const adm = socket(mgr, log, label, '/admin', { auth: { token: 'wrong' } });
  await adm.connected().catch(() => null);
  adm.sock.auth = { token: 's3cret' }; // retry on the same socket (the manager caches it)
  adm.sock.connect();
  await adm.connected();
  await adm.emitAck('stats', { detail: 'full' });
  adm.sock.disconnect();
  await sleep(50);
  main.sock.disconnect();
  await sleep(50);
  mgr.engine && mgr.engine.close();
  await srv.close();
}

module.exports = { exchange };
