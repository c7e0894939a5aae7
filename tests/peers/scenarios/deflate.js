'use strict';
/**
 * deflate: server with perMessageDeflate {threshold: 0} and a websocket client that also
 * compresses (every frame has RSV1 set; context takeover on), plus a polling client using the
 * fetch transport, which sends Accept-Encoding, so that GET bodies are gzip-compressed
 * (httpCompression threshold 0).
 */
const { once, sleep, req } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const { Fetch } = req('engine.io-client');
const text = (n) => 'lorem ipsum dolor sit amet '.repeat(n);

async function exercise(port, log, label, opts) {
  const mgr = manager(port, label, opts);
  const c = socket(mgr, log, label);
  c.on('news');
  await c.connected();
  for (let i = 0; i < 3; i++) await c.emitAck('post', { i, body: text(4 + i) });
  await c.emitAck('post', { i: 3, bin: Buffer.from(text(2)) });
  const got = once(c.sock, 'news');
  c.emit('want-news');
  await got;
  c.sock.disconnect();
  await sleep(30);
}

exports.run = async ({ port, log }) => {
  const srv = await startServer(port, {
    perMessageDeflate: { threshold: 0 },
    httpCompression: { threshold: 0 },
  });
  serve(srv.io.of('/'), log, (p) => {
    p.on('post', (args, ack) => ack && ack({ stored: args[0].i, echo: args[0].body || null }));
    p.on('want-news', () => p.emit('news', text(10), Buffer.from(text(3))));
  });
  await exercise(port, log, 'ws', { transports: ['websocket'], perMessageDeflate: { threshold: 0 } });
  await exercise(port, log, 'fetch', { transports: [Fetch] });
  await srv.close();
};
