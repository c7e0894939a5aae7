'use strict';
/**
 * game: a small multiplayer game with a binary application protocol (decoded by the example
 * plugin plugins/ioproto_example_game; formats in its formats.py).
 *
 * Two players join namespace /game (p1 over websocket, p2 over polling) and emit
 * `move(<16-byte Move>)` with an ack, which the server answers with an 8-byte `MoveResult`
 * (logged as event `move-ack`); after each round the server broadcasts `state(<GameState>)`
 * to both. Each client also sends two `Telemetry` reports (8 bytes) over a raw Engine.IO
 * connection on path /telemetry/ (engine.io 6.6 server and client, no Socket.IO).
 * Besides the usual log records, every binary message is logged once more by its sender as
 * action "app-fields" with args [fields] (the values that went into the bytes).
 */
const { req, sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const eio = req('engine.io');
const { Socket: EioSocket } = req('engine.io-client');

function encodeMove(m) {
  const b = Buffer.alloc(16);
  b.writeUInt8(1, 0);
  b.writeUInt8((m.keys.jump << 7) | (m.keys.crouch << 6) | (m.keys.sprint << 5) | (m.keys.fire << 4), 1);
  b.writeUInt16BE(m.seq, 2);
  b.writeFloatBE(m.x, 4);
  b.writeFloatBE(m.y, 8);
  b.writeUInt16BE(m.heading, 12);
  b.writeUInt8(m.speed, 14);
  return b;
}

function decodeMove(b) {
  return { id: null, x: b.readFloatBE(4), y: b.readFloatBE(8) };
}

function encodeMoveResult(r) {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(r.seq, 0);
  b.writeUInt8(r.flags.accepted ? 0x80 : 0, 2);
  b.writeUInt8(r.health, 3);
  b.writeUInt32BE(r.tick, 4);
  return b;
}

function encodeState(s) {
  const b = Buffer.alloc(5 + 11 * s.players.length);
  b.writeUInt32BE(s.tick, 0);
  b.writeUInt8(s.players.length, 4);
  s.players.forEach((p, i) => {
    const o = 5 + 11 * i;
    b.writeUInt16BE(p.id, o);
    b.writeFloatBE(p.x, o + 2);
    b.writeFloatBE(p.y, o + 6);
    b.writeUInt8(p.health, o + 10);
  });
  return b;
}

function encodeTelemetry(t) {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(t.fps, 0);
  b.writeUInt16BE(t.rtt_ms, 2);
  b.writeUInt32BE(t.dropped, 4);
  return b;
}

async function telemetry(port, log, label, reports) {
  const s = new EioSocket(`ws://127.0.0.1:${port}`, {
    path: '/telemetry/',
    transports: ['websocket'],
    query: { client: label },
  });
  await new Promise((resolve) => s.on('open', resolve));
  for (const t of reports) {
    log.add('client', label, 'app-fields', { nsp: null, event: 'telemetry', args: [t], transport: 'websocket' });
    s.send(encodeTelemetry(t));
    await sleep(10);
  }
  await sleep(30);
  s.close();
}

exports.run = async ({ port, log }) => {
  const srv = await startServer(port);
  const tele = eio.attach(srv.httpServer, { path: '/telemetry/' });
  tele.on('connection', (s) => s.on('message', () => {}));

  const game = srv.io.of('/game');
  const players = new Map(); // label -> {id, x, y, health}
  let tick = 1000;
  serve(game, log, (p) => {
    players.set(p.label, { id: players.size + 1, x: 0, y: 0, health: 100 });
    p.on('move', (args, ack) => {
      const me = players.get(p.label);
      Object.assign(me, decodeMove(args[0]), { id: me.id });
      me.health = Math.max(0, me.health - 5);
      const result = { seq: args[0].readUInt16BE(2), flags: { accepted: me.health > 80 }, health: me.health, tick };
      log.add('server', p.label, 'app-fields', { nsp: '/game', event: 'move-ack', args: [result], transport: null });
      ack(encodeMoveResult(result));
    });
  });

  const labels = [['p1', ['websocket']], ['p2', ['polling']]];
  const clients = [];
  for (const [label, transports] of labels) {
    const mgr = manager(port, label, { transports });
    const c = socket(mgr, log, label, '/game');
    c.on('state');
    await c.connected();
    clients.push({ label, mgr, c });
  }
  await sleep(50);
  for (let round = 0; round < 3; round++) {
    for (const [i, { label, c }] of clients.entries()) {
      const seq = round * 2 + i;
      const move = {
        keys: { jump: round === 1, crouch: i === 1, sprint: round === 2, fire: (round + i) % 2 === 1 },
        seq,
        x: 10 + seq * 0.5,
        y: 100 - seq * 0.25,
        heading: (9000 + 4500 * seq) % 36000,
        speed: 3 + seq,
      };
      log.add('client', label, 'app-fields', { nsp: '/game', event: 'move', args: [move], transport: c.transport() });
      c.emitAck('move', encodeMove(move));
    }
    await sleep(80);
    tick += 1;
    const state = {
      tick,
      players: [...players.values()].map((q) => ({ id: q.id, x: q.x, y: q.y, health: q.health })),
    };
    // one broadcast on the wire per client: log one emit and one app-fields per recipient
    for (const [label] of labels) {
      log.add('server', label, 'emit', { nsp: '/game', event: 'state', args: [encodeState(state)], transport: null });
      log.add('server', label, 'app-fields', { nsp: '/game', event: 'state', args: [state], transport: null });
    }
    game.emit('state', encodeState(state));
    await sleep(80);
  }
  await Promise.all(
    labels.map(([label], i) =>
      telemetry(port, log, label, [
        { fps: 60 - i, rtt_ms: 12 + i, dropped: i },
        { fps: 58 - i, rtt_ms: 15 + i, dropped: 2 + i },
      ]),
    ),
  );
  for (const { c } of clients) c.sock.disconnect();
  await sleep(50);
  for (const { mgr } of clients) mgr.engine && mgr.engine.close();
  tele.close();
  await srv.close();
};
