'use strict';
/**
 * polling_gone: one socket.io 4 server (pingInterval 5 s, so no heartbeat answers a poll) and
 * three polling-only clients that go away while their long poll (a GET) waits for its answer,
 * without any Engine.IO or Socket.IO close:
 *   node-killed (socket.io-client 4.8.1 in a process of its own, tests/peers/lib/polling_client.js,
 *     killed with SIGKILL),
 *   python-killed (python-socketio AsyncClient in a process of its own,
 *     tests/peers/python_polling_client.py, killed with SIGKILL),
 *   curl-abort (a hand-written polling client that closes its waiting GET's connection, as
 *     curl interrupted by Ctrl-C does).
 * The server sees each waiting poll's connection close and ends that session at once (its
 * disconnect reason: "transport error"). Option `python=PATH`: the Python interpreter.
 */
const fs = require('fs');
const http = require('http');
const path = require('path');
const { sleep, rawPollingSession, spawnReady } = require('../lib/common');
const { startServer, serve } = require('../lib/v4');

const PEERS = path.join(__dirname, '..');

/** Run `argv` until it prints READY, leave it 200 ms to send its next poll, SIGKILL it. */
async function killWhenReady(argv, label, log, partLog) {
  const child = await spawnReady(argv, label);
  await sleep(200);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  log.add('client', label, 'killed', { transport: 'polling', args: ['SIGKILL'] });
  await exited;
  const text = fs.existsSync(partLog) ? fs.readFileSync(partLog, 'utf-8') : '';
  for (const line of text.split('\n')) if (line.trim()) log.records.push(JSON.parse(line));
}

/** A hand-written EIO4 polling client that aborts its waiting GET. */
async function curlAbort(port, log) {
  const label = 'curl-abort';
  const rec = (action, fields = {}) => log.add('client', label, action, { transport: 'polling', ...fields });
  const { url, headers, post, get } = await rawPollingSession(port, label, { 'User-Agent': 'curl/8.5.0', Accept: '*/*' });
  await post('40');
  let got = '';
  while (!got.includes('42["welcome"')) got += (await get()).body.toString() + '\x1e';
  rec('connect');
  const waiting = http.request({ host: '127.0.0.1', port, path: url, headers, agent: false });
  waiting.on('error', () => {}); // its own abort
  waiting.end();
  await sleep(200);
  waiting.destroy();
  rec('killed', { args: ['poll aborted'] });
}

exports.run = async ({ port, log, opts }) => {
  const srv = await startServer(port, { pingInterval: 5000, pingTimeout: 2000 });
  const expected = ['node-killed', 'python-killed', 'curl-abort'];
  const gone = new Set();
  const allGone = new Promise((resolve) => {
    serve(srv.io.of('/'), log, (p) => {
      p.emit('welcome', p.label);
      p.on('hello', (args, ack) => ack && ack('hi ' + p.label));
      p.sock.on('disconnect', () => {
        gone.add(p.label);
        if (expected.every((l) => gone.has(l))) resolve();
      });
    });
  });
  const python = opts.python || 'python3';
  const nodeLog = log.file + '.node-killed';
  const pythonLog = log.file + '.python-killed';
  await Promise.all([
    killWhenReady([process.execPath, path.join(PEERS, 'lib', 'polling_client.js'), String(port), 'node-killed', nodeLog], 'node-killed', log, nodeLog),
    killWhenReady([python, path.join(PEERS, 'python_polling_client.py'), '--port', String(port), '--label', 'python-killed', '--log', pythonLog], 'python-killed', log, pythonLog),
    curlAbort(port, log),
  ]);
  await Promise.race([allGone, sleep(4000)]);
  const missing = expected.filter((l) => !gone.has(l));
  if (missing.length) throw new Error('the server did not see these clients go: ' + missing.join(', '));
  await srv.close();
};
