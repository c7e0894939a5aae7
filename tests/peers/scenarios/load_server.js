'use strict';
/**
 * Server half of the large-capture load (benchmarks/make_capture.py): a socket.io 4 server
 * that acks every "msg" (text) and "upload" (binary, acked with bytes), pushes a "notice"
 * every 20th message and asks the client for an ack ("check") every 50th. No log is kept.
 * Prints READY when listening and runs until SIGINT/SIGTERM.
 */
const { startServer } = require('../lib/v4');

exports.run = async ({ port }) => {
  const srv = await startServer(port, { maxHttpBufferSize: 1e8 });
  srv.io.on('connection', (s) => {
    s.on('msg', (m, ack) => {
      ack({ n: m.n, ok: true, len: m.text.length });
      if (m.n % 20 === 0) s.emit('notice', { n: m.n, text: m.text.slice(0, 200) });
      if (m.n % 50 === 0) s.emit('check', m.n, () => {});
    });
    s.on('upload', (meta, data, ack) => ack({ n: meta.n, size: data.length }, data.subarray(0, 64)));
  });
  console.log('READY');
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await srv.close();
};
