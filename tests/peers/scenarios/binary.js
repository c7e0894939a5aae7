'use strict';
/**
 * binary: BINARY_EVENT / BINARY_ACK with Buffers at several depths and several attachments,
 * once over websocket (client "ws") and once over polling (client "poll", where attachments
 * travel base64 as "b..." packets inside \x1e-joined payloads).
 */
const { once, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

async function exercise(port, log, label, transports) {
  const mgr = manager(port, label, { transports });
  const c = socket(mgr, log, label);
  c.on('file', (args, ack) => ack && ack('stored', { crc: bytes(4, 9) }));
  c.on('done');
  await c.connected();
  await c.emitAck('upload', { name: 'a.bin', data: bytes(16, 1) }, [bytes(3, 2), { deep: { deeper: bytes(1, 3) } }]);
  await c.emitAck('empty-and-big', Buffer.alloc(0), bytes(300, 4), 'text after');
  const done = once(c.sock, 'done');
  c.emit('want-file');
  await done;
  c.sock.disconnect();
  await sleep(30);
}

exports.run = async ({ port, log }) => {
  const srv = await startServer(port);
  serve(srv.io.of('/'), log, (p) => {
    p.on('upload', (args, ack) => ack(Buffer.from(args[0].data).reverse(), { ok: true, tail: bytes(2, 5) }));
    p.on('empty-and-big', (args, ack) => ack({ sizes: args.slice(0, 2).map((b) => b.length) }));
    p.on('want-file', async () => {
      const [status] = await p.emitAck('file', 'pic.png', bytes(8, 6), { thumb: bytes(5, 7), parts: [bytes(2, 8), bytes(2, 9)] });
      p.emit('done', status);
    });
  });
  await exercise(port, log, 'ws', ['websocket']);
  await exercise(port, log, 'poll', ['polling']);
  await srv.close();
};
