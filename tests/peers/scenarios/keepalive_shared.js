'use strict';
/**
 * keepalive_shared: two sessions whose polling requests share one keep-alive connection, as a
 * browser's tabs or a reverse proxy's upstream pool do. Both clients poll through one
 * http.Agent (keepAlive, maxSockets 1): `a` stays on polling; `b` then upgrades, its
 * WebSocket on a connection of its own (no agent). So `b`'s session is carried by the shared
 * connection (first used by `a`) and by its WebSocket connection. pingInterval 300 ms keeps
 * the long polls short.
 */
const http = require('http');
const { sleep, upgraded } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

exports.run = async ({ port, log }) => {
  const srv = await startServer(port, { pingInterval: 300, pingTimeout: 2000 });
  serve(srv.io.of('/'), log, (p) => {
    p.on('msg', (args, ack) => ack && ack({ seen: args[0], via: p.transport() }));
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const a = socket(manager(port, 'a', { agent, transports: ['polling'] }), log, 'a');
  await a.connected();
  await a.emitAck('msg', 'a first');
  const b = socket(
    manager(port, 'b', { agent, transportOptions: { websocket: { agent: false } } }),
    log,
    'b'
  );
  await b.connected();
  await b.emitAck('msg', 'b over polling');
  await a.emitAck('msg', 'a again');
  await upgraded(b.sock);
  await sleep(20);
  await b.emitAck('msg', 'b over websocket');
  await a.emitAck('msg', 'a last');
  b.sock.disconnect();
  a.sock.disconnect();
  await sleep(100);
  agent.destroy();
  await srv.close();
};
