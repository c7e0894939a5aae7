'use strict';
/**
 * rejected: middleware rejections -> CONNECT_ERROR ("44{...}") with `data`, on "/" (websocket
 * client) and on "/private" (polling client that is accepted on "/"); then raw HTTP requests
 * answered with engine.io errors: unknown sid (400 code 1), unknown transport (400 code 0),
 * handshake with POST (400 code 2), EIO=3 without allowEIO3 (400 code 5). The raw requests are
 * logged with action "http" (args: [{method, path, status, body}]).
 */
const { sleep, httpRequest } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

exports.run = async ({ port, log }) => {
  const srv = await startServer(port);
  const rootNsp = srv.io.of('/');
  rootNsp.use((s, next) => {
    if (s.handshake.auth && s.handshake.auth.token === 'good') return next();
    const err = new Error('not authorized');
    err.data = { code: 'E_AUTH', retry: false, hint: ['login', 'first'] };
    next(err);
  });
  serve(rootNsp, log, (p) => p.on('hello', (args, ack) => ack && ack('hi')));
  const priv = srv.io.of('/private');
  priv.use((s, next) => {
    const err = new Error('private namespace');
    err.data = 403;
    next(err);
  });
  serve(priv, log);

  // 1. websocket client rejected on "/"
  const m1 = manager(port, 'bad-ws', { transports: ['websocket'] });
  const c1 = socket(m1, log, 'bad-ws', '/', { auth: { token: 'wrong' } });
  await c1.connected().catch(() => null);
  await sleep(20);
  m1.engine && m1.engine.close();

  // 2. polling client accepted on "/", rejected on "/private"
  const m2 = manager(port, 'poll', { transports: ['polling'] });
  const ok = socket(m2, log, 'poll', '/', { auth: { token: 'good' } });
  await ok.connected();
  await ok.emitAck('hello');
  const c2 = socket(m2, log, 'poll', '/private', { auth: { token: 'good' } });
  await c2.connected().catch(() => null);
  ok.sock.disconnect();
  await sleep(50);

  // 3. raw HTTP errors
  const raw = async (method, path, body) => {
    const res = await httpRequest({ port, method, path, headers: body ? { 'Content-Type': 'text/plain;charset=UTF-8' } : {} }, body);
    log.add('client', 'raw-http', 'http', {
      args: [{ method, path, status: res.status, body: res.body.toString('utf8') }],
      transport: 'polling',
    });
  };
  await raw('GET', '/socket.io/?EIO=4&transport=polling&sid=unknown');
  await raw('GET', '/socket.io/?EIO=4&transport=carrier-pigeon');
  await raw('POST', '/socket.io/?EIO=4&transport=polling', '40');
  await raw('GET', '/socket.io/?EIO=3&transport=polling');
  await srv.close();
};
