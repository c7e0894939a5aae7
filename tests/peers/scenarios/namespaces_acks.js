'use strict';
/**
 * namespaces_acks: one websocket session multiplexing "/", "/chat", "/news" and a dynamic
 * namespace "/room-7"; acks both ways in each namespace (so ack id 0 appears in several
 * namespaces and directions), acks with zero and several arguments, events without ack.
 */
const { once, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

exports.run = async ({ port, log }) => {
  const srv = await startServer(port);
  const setup = (p) => {
    p.on('req', (args, ack) => {
      if (!ack) return;
      if (args[0] === 'none') ack();
      else if (args[0] === 'many') ack(1, 'two', [3], { four: 4 }, null, true);
      else ack('ok:' + p.nsp);
    });
    p.on('fire');
    p.on('call-me', async () => {
      const [a] = await p.emitAck('server-req', p.nsp);
      const [b] = await p.emitAck('server-req', p.nsp + '#2');
      p.emit('server-done', a, b);
    });
  };
  for (const n of ['/', '/chat', '/news']) serve(srv.io.of(n), log, setup);
  serve(srv.io.of(/^\/room-\d+$/), log, setup);

  const mgr = manager(port, 'c1', { transports: ['websocket'] });
  const socks = ['/', '/chat', '/news', '/room-7'].map((n) => socket(mgr, log, 'c1', n));
  await Promise.all(socks.map((s) => s.connected()));
  for (const s of socks) {
    s.on('server-req', (args, ack) => ack('client-ok:' + args[0]));
    s.on('server-done');
  }
  for (const s of socks) {
    await s.emitAck('req', 'plain'); // ack id 0 in every namespace
    s.emit('fire', s.nsp, 1);
    await s.emitAck('req', 'none');
    await s.emitAck('req', 'many');
    const done = once(s.sock, 'server-done');
    s.emit('call-me');
    await done;
  }
  // interleaved acks across namespaces, answered out of emission order
  await Promise.all(socks.map((s) => s.emitAck('req', 'parallel')));
  for (const s of socks.slice(1)) s.sock.disconnect();
  await sleep(50);
  socks[0].sock.disconnect();
  await sleep(50);
  await srv.close();
};
