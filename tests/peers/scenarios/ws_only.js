'use strict';
/** ws_only: websocket-only client; events and acks both ways; `/admin` namespace with auth. */
const { once, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

exports.run = async ({ port, log }) => {
  const srv = await startServer(port);
  serve(srv.io.of('/'), log, (p) => {
    p.on('chat', (args, ack) => ack && ack({ ok: true, echo: args[0] }));
    p.on('notify');
    p.on('ask-me', async () => {
      const [answer] = await p.emitAck('question', 'what is 6*7?');
      p.emit('answer-received', answer);
    });
  });
  const admin = srv.io.of('/admin');
  admin.use((s, next) => (s.handshake.auth.token === 's3cret' ? next() : next(new Error('forbidden'))));
  serve(admin, log, (p) => {
    p.on('stats', (args, ack) => ack && ack({ users: 1, uptime: 42.5 }));
  });

  const mgr = manager(port, 'c1', { transports: ['websocket'] });
  const main = socket(mgr, log, 'c1', '/');
  await main.connected();
  await main.emitAck('chat', 'hello', { n: 1 });
  main.emit('notify', 'fire-and-forget', [1, 2, 3]);
  main.on('question', (args, ack) => ack(42));
  const done = once(main.sock, 'answer-received');
  main.on('answer-received');
  main.emit('ask-me');
  await done;
  const adm = socket(mgr, log, 'c1', '/admin', { auth: { token: 's3cret' } });
  await adm.connected();
  await adm.emitAck('stats', { detail: 'full' });
  adm.sock.disconnect();
  await sleep(50);
  main.sock.disconnect();
  await sleep(50);
  mgr.engine && mgr.engine.close();
  await srv.close();
};
