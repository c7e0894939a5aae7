'use strict';
/**
 * chat: the bundled sample (examples/chat.pcap). A socket.io 4 chat server and three users:
 * alice and bob with default transports (polling, then upgrade to websocket), carol websocket
 * only. Users upload a PNG avatar (binary event + ack), chat (events with acks, broadcasts to
 * the others), send typing notifications (no ack), the server asks alice to confirm a read
 * receipt (server-to-client ack), and bob leaves early.
 */
const zlib = require('zlib');
const { once, sleep, upgraded } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
/** A deterministic 16x16 RGB PNG (a two-colour checkerboard). */
function avatar(r, g, b) {
  const rows = [];
  for (let y = 0; y < 16; y++) {
    const row = [0];
    for (let x = 0; x < 16; x++) row.push(...(((x >> 2) + (y >> 2)) % 2 ? [r, g, b] : [255, 255, 255]));
    rows.push(Buffer.from(row));
  }
  const ihdr = Buffer.from([0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const SCRIPT = [
  ['alice', 'hi everyone!'],
  ['bob', 'hey alice'],
  ['carol', 'hello hello'],
  ['alice', 'did you all see the release notes?'],
  ['bob', 'not yet, anything big?'],
  ['alice', 'binary acks are faster now'],
  ['carol', 'nice 🎉'],
  ['bob', 'I have to run, bye'],
  ['alice', 'bye bob'],
  ['carol', 'so, lunch at noon?'],
  ['alice', 'sure, the usual place'],
  ['carol', 'see you there — ünïcödé test ✓'],
];

exports.run = async ({ port, log }) => {
  const srv = await startServer(port);
  let msgId = 0;
  const online = new Map(); // user -> server-side Peer
  // broadcasts are sent one peer at a time so that the log has one "emit" per recipient
  const broadcast = (from, event, ...args) => {
    for (const [name, q] of online) if (name !== from && q.sock.connected) q.emit(event, ...args);
  };
  serve(srv.io.of('/'), log, (p) => {
    const user = p.label;
    online.set(user, p);
    p.emit('welcome', { user, online: online.size });
    broadcast(user, 'user-joined', user);
    p.on('set-avatar', (args, ack) => {
      ack && ack({ ok: true, bytes: args[0].length });
      broadcast(user, 'avatar', user, args[0]);
    });
    p.on('typing', () => broadcast(user, 'typing', user));
    p.on('message', async (args, ack) => {
      const id = ++msgId;
      ack && ack({ id });
      broadcast(user, 'message', { id, from: user, text: args[0].text });
      if (id === 10 && online.has('alice')) await online.get('alice').emitAck('read-receipt?', { id });
    });
    p.sock.on('disconnect', () => {
      online.delete(user);
      broadcast(user, 'user-left', user);
    });
  });

  const users = {};
  const colours = { alice: [220, 40, 60], bob: [40, 120, 220], carol: [40, 180, 90] };
  for (const [name, transports] of [['alice', undefined], ['bob', undefined], ['carol', ['websocket']]]) {
    const mgr = manager(port, name, transports ? { transports } : {});
    const c = socket(mgr, log, name);
    for (const ev of ['welcome', 'user-joined', 'user-left', 'typing', 'message', 'avatar']) c.on(ev);
    c.on('read-receipt?', (args, ack) => ack({ read: true, id: args[0].id }));
    const welcomed = once(c.sock, 'welcome');
    await c.connected();
    await welcomed;
    users[name] = c;
    await c.emitAck('set-avatar', avatar(...colours[name]));
  }
  await Promise.all([upgraded(users.alice.sock), upgraded(users.bob.sock)]);
  for (const [name, text] of SCRIPT) {
    const c = users[name];
    if (!c.sock.connected) continue;
    c.emit('typing');
    await sleep(15);
    await c.emitAck('message', { text });
    await sleep(15);
    if (name === 'bob' && text.includes('bye')) {
      c.sock.disconnect();
      await sleep(30);
    }
  }
  await sleep(50);
  users.carol.sock.disconnect();
  await sleep(30);
  users.alice.sock.disconnect();
  await sleep(50);
  await srv.close();
};
