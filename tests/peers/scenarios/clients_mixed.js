'use strict';
/**
 * clients_mixed: one socket.io 4 server (pingInterval 300 ms, pingTimeout 200 ms) and clients
 * with different User-Agent headers and transports:
 *   chrome (websocket), firefox (polling -> websocket), safari-ios (websocket),
 *   node (polling only, default UA), curl (hand-written HTTP polling client, curl UA),
 *   python (python-socketio AsyncClient, separate process, see python_client.py),
 *   slow (the server delays its ack by 200 ms),
 *   dead-tcp (destroys its TCP socket without a websocket close frame),
 *   mute (websocket client that stops answering pings -> server "ping timeout").
 * Prints READY once listening so that capture.py starts the python client.
 */
const { once, sleep, rawPollingSession } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const UA = {
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'safari-ios': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  slow: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
  'dead-tcp': 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  mute: 'Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)',
  curl: 'curl/8.5.0',
};

async function browserLike(port, log, label, transports) {
  const headers = UA[label] ? { 'User-Agent': UA[label] } : undefined;
  const mgr = manager(port, label, { transports, extraHeaders: headers });
  const c = socket(mgr, log, label);
  const welcome = once(c.sock, 'welcome');
  c.on('welcome');
  await c.connected();
  await welcome;
  return { mgr, c };
}

async function normal(port, log, label, transports) {
  const { c } = await browserLike(port, log, label, transports);
  await c.emitAck('hello', 'from ' + label);
  if (label === 'firefox') {
    await new Promise((r) => (c.sock.io.engine.transport.name === 'websocket' ? r() : c.sock.io.engine.once('upgrade', r)));
    await c.emitAck('hello', 'upgraded ' + label);
  }
  c.emit('bye');
  await sleep(20);
  c.sock.disconnect();
}

async function slow(port, log) {
  const { c } = await browserLike(port, log, 'slow', ['websocket']);
  await c.emitAck('slow', 'take your time');
  c.sock.disconnect();
}

async function deadTcp(port, log) {
  const { c } = await browserLike(port, log, 'dead-tcp', ['websocket']);
  await c.emitAck('hello', 'about to vanish');
  // no close frame, no Engine.IO/Socket.IO close: the TCP connection just goes away
  c.sock.io.engine.transport.ws._socket.destroy();
}

async function mute(port, log) {
  const { mgr, c } = await browserLike(port, log, 'mute', ['websocket']);
  const engine = mgr.engine;
  const orig = engine._sendPacket.bind(engine);
  engine._sendPacket = (type, ...rest) => (type === 'pong' ? undefined : orig(type, ...rest));
  await c.emitAck('hello', 'I will stop answering pings');
  await once(c.sock, 'disconnect');
}

/** A hand-written EIO4 polling client, as curl would do it. */
async function curl(port, log) {
  const label = 'curl';
  const rec = (action, fields = {}) => log.add('client', label, action, { transport: 'polling', ...fields });
  const { post, get } = await rawPollingSession(port, label, { 'User-Agent': UA.curl, Accept: '*/*' });
  const queue = [];
  const waitFor = async (pred) => {
    for (;;) {
      while (queue.length) {
        const pkt = queue.shift();
        if (pkt === '2') await post('3');
        else if (pkt.startsWith('42')) {
          const data = JSON.parse(pkt.slice(2));
          rec('recv', { event: data[0], args: data.slice(1) });
        }
        if (pred(pkt)) return pkt;
      }
      const res = await get();
      queue.push(...res.body.toString().split('\x1e'));
    }
  };
  await post('40');
  await waitFor((p) => p.startsWith('40'));
  rec('connect');
  await waitFor((p) => p.startsWith('42["welcome"'));
  rec('emit', { event: 'hello', args: ['from curl'], ack_id: 0 });
  await post('420["hello","from curl"]');
  const ack = await waitFor((p) => p.startsWith('430'));
  rec('ack-recv', { event: 'hello', args: JSON.parse(ack.slice(3)), ack_id: 0 });
  await post('41');
  rec('disconnect', { args: ['io client disconnect'] });
  await post('1');
}

exports.run = async ({ port, log }) => {
  const srv = await startServer(port, { pingInterval: 300, pingTimeout: 200 });
  const gone = new Map();
  const expected = ['chrome', 'firefox', 'safari-ios', 'node', 'curl', 'python', 'slow', 'dead-tcp', 'mute'];
  const allGone = new Promise((resolve) => {
    serve(srv.io.of('/'), log, (p) => {
      p.emit('welcome', p.label, p.sock.handshake.headers['user-agent'] || null);
      p.on('hello', (args, ack) => ack && ack('hi ' + p.label));
      p.on('bin', (args, ack) => ack && ack(Buffer.from(args[0]).reverse()));
      p.on('slow', (args, ack) => setTimeout(() => ack('finally'), 200));
      p.on('bye');
      p.sock.on('disconnect', () => {
        gone.set(p.label, true);
        if (expected.every((l) => gone.has(l))) resolve();
      });
    });
  });
  console.log('READY');
  await Promise.all([
    normal(port, log, 'chrome', ['websocket']),
    normal(port, log, 'firefox', ['polling', 'websocket']),
    normal(port, log, 'safari-ios', ['websocket']),
    normal(port, log, 'node', ['polling']),
    curl(port, log),
    slow(port, log),
    deadTcp(port, log),
    mute(port, log),
  ]);
  await Promise.race([allGone, sleep(4000)]);
  const missing = expected.filter((l) => !gone.has(l));
  if (missing.length) throw new Error('clients still connected: ' + missing.join(', '));
  await srv.close();
};
