'use strict';
// node --test: ioproto-tap on real socket.io 4 (engine.io 6) and 2 (engine.io 3) servers with
// real clients, against a stand-in collector (a TCP server that keeps the lines). Also: the
// app never notices an absent, killed or non-reading collector; drops are counted.
const test = require('node:test');
const assert = require('node:assert');
const http = require('http');
const net = require('net');
const path = require('path');

const NM = path.resolve(__dirname, '..', '..', '..', 'tests', 'node', 'node_modules');
const tap = require('..');

function collector({ read = true } = {}) {
  const lines = [];
  const sockets = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    if (!read) { sock.pause(); return; }
    let rest = '';
    sock.on('data', (d) => {
      const parts = (rest + d).split('\n');
      rest = parts.pop();
      for (const p of parts) lines.push(JSON.parse(p));
    });
    sock.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    lines, sockets, port: server.address().port,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((r) => server.close(r)); },
  })));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function serve(version, collectorPort, options = {}) {
  const httpServer = http.createServer();
  let io;
  if (version === 4) {
    const { Server } = require(path.join(NM, 'socket.io'));
    io = new Server(httpServer);
  } else {
    io = require(path.join(NM, 'socket.io-v2'))(httpServer);
  }
  io.on('connection', (socket) => {
    socket.on('echo', (...args) => { const ack = args.pop(); ack(...args); });
  });
  const handle = tap(io, Object.assign({ collector: `127.0.0.1:${collectorPort}` }, options));
  await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
  return { io, handle, url: `http://127.0.0.1:${httpServer.address().port}`, close: () => { handle.close(); io.close(); httpServer.close(); } };
}

async function talk(version, url, transports, rounds = 3, payload = 'hi') {
  const { io } = version === 4 ? require(path.join(NM, 'socket.io-client')) : { io: require(path.join(NM, 'socket.io-client-v2')) };
  const socket = io(url, { transports, forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject); });
  if (transports.length > 1 && version === 4) await sleep(300); // let it upgrade
  const answers = [];
  for (let i = 0; i < rounds; i++) {
    answers.push(await new Promise((resolve) => socket.emit('echo', payload, Buffer.from([i]), (a, b) => resolve([a, Buffer.from(b)[0]]))));
  }
  socket.close();
  await sleep(300);
  return answers;
}

for (const version of [4, 2]) {
  test(`socket.io ${version}: every packet of a polling session that upgrades`, async () => {
    const c = await collector();
    const s = await serve(version, c.port);
    const answers = await talk(version, s.url, ['polling', 'websocket']);
    assert.deepStrictEqual(answers, [['hi', 0], ['hi', 1], ['hi', 2]]);
    await sleep(200);
    s.close();
    await c.close();
    const kinds = c.lines.map((l) => l.t);
    assert.strictEqual(kinds[0], 'hello');
    assert.strictEqual(c.lines[0].v, 1);
    assert.ok(c.lines[0].lib.includes(version === 4 ? 'engine.io/6' : 'engine.io/3'), c.lines[0].lib);
    const open = c.lines.find((l) => l.t === 'open');
    assert.strictEqual(open.eio, version === 4 ? 4 : 3);
    assert.ok(open.req.u.includes('transport=polling'));
    assert.ok(open.req.h.some(([k]) => k === 'user-agent' || k === 'host'));
    const packets = c.lines.filter((l) => l.t === 'p');
    assert.ok(packets[0].p.startsWith('0{"sid":'), packets[0].p);
    assert.ok(kinds.includes('upgrade'));
    const ws = packets.filter((l) => l.tr === 'websocket').map((l) => l.p);
    assert.ok(ws.includes('2probe') && ws.includes('3probe') && ws.includes('5'), ws);
    const binary = packets.filter((l) => typeof l.p === 'object');
    assert.ok(binary.length >= 6, 'binary attachments both ways');
    assert.ok(kinds.includes('close'));
  });

  test(`socket.io ${version}: an absent collector costs the app nothing; drops are counted`, async () => {
    const c = await collector();
    const port = c.port;
    await c.close(); // nobody listens there now
    const s = await serve(version, port, { bufferBytes: 2000 });
    const answers = await talk(version, s.url, ['websocket'], 20, 'x'.repeat(200));
    assert.strictEqual(answers.length, 20);
    const stats = s.handle.stats();
    s.close();
    assert.strictEqual(stats.connects, 0);
    assert.ok(stats.dropped > 0, JSON.stringify(stats));
    assert.strictEqual(stats.failures, 0);
  });
}

test('a collector killed mid-run: the tap reconnects and reports what it dropped', async () => {
  const c = await collector();
  const port = c.port;
  const s = await serve(4, port, { bufferBytes: 3000 });
  await talk(4, s.url, ['websocket'], 2);
  await sleep(200);
  await c.close();
  await talk(4, s.url, ['websocket'], 20, 'y'.repeat(300)); // meanwhile: buffer fills, drops
  const lines = [];
  const again = net.createServer((sock) => {
    let rest = '';
    sock.on('data', (d) => { const parts = (rest + d).split('\n'); rest = parts.pop(); for (const p of parts) lines.push(JSON.parse(p)); });
  });
  await new Promise((r) => again.listen(port, '127.0.0.1', r));
  for (let i = 0; i < 100 && !lines.length; i++) await sleep(100); // backoff up to 5 s
  await talk(4, s.url, ['websocket'], 2);
  await sleep(300);
  const stats = s.handle.stats();
  s.close();
  await new Promise((r) => again.close(r));
  assert.strictEqual(stats.connects, 2);
  assert.ok(lines[0].t === 'hello' && lines[0].dropped > 0, JSON.stringify(lines[0]));
  assert.ok(lines.some((l) => l.t === 'p' && typeof l.p === 'string' && l.p.includes('["echo","hi"')), 'records flow again');
});

test('a collector that does not read never slows the app', async () => {
  const c = await collector({ read: false });
  const s = await serve(4, c.port, { bufferBytes: 100000 });
  const t0 = Date.now();
  // 80 MB of lines: more than the kernel's socket buffers take in for a collector that does
  // not read (loopback autotuning grows a receive buffer up to net.ipv4.tcp_rmem's maximum,
  // 32 MiB here), so the tap's own bound must drop.
  const answers = await talk(4, s.url, ['websocket'], 200, 'z'.repeat(200000));
  const stats = s.handle.stats();
  s.close();
  await c.close();
  assert.strictEqual(answers.length, 200);
  assert.ok(stats.dropped > 0, JSON.stringify(stats));
  assert.ok(Date.now() - t0 < 30000);
});

test('packetForm and parseAddress', () => {
  assert.strictEqual(tap.packetForm({ type: 'message', data: 'x' }), '4x');
  assert.strictEqual(tap.packetForm({ type: 'ping' }), '2');
  assert.deepStrictEqual(tap.packetForm({ type: 'message', data: new Uint8Array([1, 2]) }), Buffer.from([1, 2]));
  assert.deepStrictEqual(tap.parseAddress('unix:/x'), { path: '/x' });
  assert.deepStrictEqual(tap.parseAddress('9000'), { host: '127.0.0.1', port: 9000 });
  assert.deepStrictEqual(tap.parseAddress('[::1]:5'), { host: '::1', port: 5 });
  assert.throws(() => tap.parseAddress('nope'));
});
