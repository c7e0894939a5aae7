'use strict';
/**
 * polling_silent: one socket.io 4 server (pingInterval 300 ms, pingTimeout 200 ms) and two
 * polling-only clients that go silent without closing anything: each runs in a process of its
 * own and is frozen with SIGSTOP 100 ms after its `hello` ack, while its long poll (a GET)
 * waits. The server answers that poll with its next ping, gets no pong, and ends the session
 * 200 ms later (`disconnect` reason "ping timeout") with nothing on the wire: no request is
 * left to answer, and the frozen process's connections stay open.
 *   node-frozen (socket.io-client 4.8.1, tests/peers/lib/polling_client.js),
 *   python-frozen (python-socketio AsyncClient, tests/peers/python_polling_client.py).
 * A third client, `steady` (polling too, in this process), keeps emitting every 200 ms for
 * 2.5 s after the freezes, so that the capture goes on well past the frozen sessions' end,
 * then disconnects. The frozen processes are killed only after the capture's traffic ends.
 * Option `python=PATH`: the Python interpreter.
 */
const path = require('path');
const fs = require('fs');
const { sleep, spawnReady } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const PEERS = path.join(__dirname, '..');

/** Run `argv` until it prints READY, leave it 100 ms to send its next poll, SIGSTOP it. */
async function freezeWhenReady(argv, label, log) {
  const child = await spawnReady(argv, label);
  await sleep(100);
  child.kill('SIGSTOP');
  log.add('client', label, 'frozen', { transport: 'polling', args: ['SIGSTOP'] });
  return child;
}

exports.run = async ({ port, log, opts }) => {
  const srv = await startServer(port, { pingInterval: 300, pingTimeout: 200 });
  const reasons = {};
  serve(srv.io.of('/'), log, (p) => {
    p.on('hello', (args, ack) => ack && ack('hi ' + p.label));
    p.on('tick', () => {});
    p.sock.on('disconnect', (reason) => {
      reasons[p.label] = reason;
    });
  });
  const steady = socket(manager(port, 'steady', { transports: ['polling'] }), log, 'steady');
  await steady.connected();
  const python = opts.python || 'python3';
  const nodeLog = log.file + '.node-frozen';
  const pythonLog = log.file + '.python-frozen';
  const frozen = await Promise.all([
    freezeWhenReady([process.execPath, path.join(PEERS, 'lib', 'polling_client.js'), String(port), 'node-frozen', nodeLog], 'node-frozen', log),
    freezeWhenReady([python, path.join(PEERS, 'python_polling_client.py'), '--port', String(port), '--label', 'python-frozen', '--log', pythonLog], 'python-frozen', log),
  ]);
  for (let n = 0; n < 12; n++) {
    await sleep(200);
    steady.emit('tick', n);
  }
  steady.sock.disconnect();
  await sleep(100);
  for (const label of ['node-frozen', 'python-frozen']) {
    if (reasons[label] !== 'ping timeout') {
      throw new Error(`the server ended ${label} with ${reasons[label]}, not ping timeout`);
    }
  }
  await srv.close();
  for (const [child, partLog] of [[frozen[0], nodeLog], [frozen[1], pythonLog]]) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const text = fs.existsSync(partLog) ? fs.readFileSync(partLog, 'utf-8') : '';
    for (const line of text.split('\n')) if (line.trim()) log.records.push(JSON.parse(line));
  }
};
