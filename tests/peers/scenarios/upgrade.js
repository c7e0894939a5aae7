'use strict';
/**
 * upgrade: default transports (polling, then upgrade to websocket). The server holds the
 * websocket upgrade request for 250 ms so that events and acks deterministically travel over
 * polling before the upgrade (2probe/3probe/noop/5) and over websocket after it.
 */
const { once, sleep, upgraded } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

exports.run = async ({ port, log }) => {
  const srv = await startServer(port, {}, (go) => setTimeout(go, 250));
  serve(srv.io.of('/'), log, (p) => {
    p.emit('welcome', 'hello over ' + p.transport());
    p.on('msg', (args, ack) => ack && ack({ seen: args[0], via: p.transport() }));
    p.on('ask', async () => {
      const [a] = await p.emitAck('ping-app', p.transport());
      p.emit('pong-app', a);
    });
  });

  const mgr = manager(port, 'c1');
  const c = socket(mgr, log, 'c1');
  const welcome = once(c.sock, 'welcome');
  c.on('welcome');
  c.on('ping-app', (args, ack) => ack('client saw ' + args[0]));
  c.on('pong-app');
  await c.connected();
  await welcome;
  await c.emitAck('msg', 'before upgrade');
  let got = once(c.sock, 'pong-app');
  c.emit('ask');
  await got;
  await upgraded(c.sock);
  await sleep(20);
  await c.emitAck('msg', 'after upgrade');
  got = once(c.sock, 'pong-app');
  c.emit('ask');
  await got;
  c.sock.disconnect();
  await sleep(50);
  await srv.close();
};
