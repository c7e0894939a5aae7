'use strict';
/**
 * polling_only: HTTP long-polling only. Both sides emit bursts in one tick so GET bodies and
 * POST bodies batch several packets (joined by \x1e); acks both ways; pingInterval 300 ms so
 * at least two ping/pong exchanges travel as GET "2" / POST "3".
 */
const { once, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

exports.run = async ({ port, log }) => {
  const srv = await startServer(port, { pingInterval: 300, pingTimeout: 400 });
  serve(srv.io.of('/'), log, (p) => {
    p.on('burst', (args, ack) => ack && ack('got ' + args[0]));
    p.on('note');
    p.on('send-burst', async () => {
      // several packets queued in the same tick -> batched into the next GET response
      for (let i = 0; i < 4; i++) p.emit('tick', i, 'x'.repeat(i * 3));
      const [a] = await p.emitAck('confirm', 'please');
      p.emit('confirmed', a);
    });
  });

  const mgr = manager(port, 'c1', { transports: ['polling'] });
  const c = socket(mgr, log, 'c1');
  await c.connected();
  c.on('tick');
  c.on('confirm', (args, ack) => ack('yes'));
  c.on('confirmed');
  // several emits in the same tick -> batched into one POST body
  const acks = [1, 2, 3, 4].map((i) => c.emitAck('burst', i));
  c.emit('note', 'no ack here');
  await Promise.all(acks);
  const done = once(c.sock, 'confirmed');
  c.emit('send-burst');
  await done;
  const pinged = once(mgr.engine, 'ping');
  await pinged;
  await once(mgr.engine, 'ping');
  await sleep(50);
  c.sock.disconnect();
  await sleep(100);
  await srv.close();
};
