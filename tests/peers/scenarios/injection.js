'use strict';
/**
 * injection: hostile text from the wire, for the dashboard's escaping tests. Event names,
 * namespaces, payloads, ack arguments, a CONNECT_ERROR message and a User-Agent carry HTML
 * and script (`<script>`, `"><img src=x onerror=...>`), terminal escapes (ESC [ ... m, OSC)
 * and bidi overrides / invisible characters. Client `hostile` upgrades from polling to
 * WebSocket; client `hostile-ws` is WebSocket-only.
 */
const { sleep } = require('../lib/common');
const { startServer, serve, manager, socket } = require('../lib/v4');

const SCRIPT = '<script>alert("event")</script>';
const IMG = '"><img src=x onerror=alert(document.domain)>';
const ESC = '\x1b[31mred\x1b[0m\x1b]0;pwned\x07';
const BIDI = 'abc\u202edcba\u202c\u200b\u2066x\u2069';
const NSP = '/<img src=x onerror=alert(1)>';
const UA = 'Mozilla/5.0 <script>alert("ua")</script> "><img src=x onerror=alert(2)>';

exports.run = async ({ port, log }) => {
  const srv = await startServer(port, { pingInterval: 400, pingTimeout: 400 });
  const setup = (p) => {
    for (const name of [SCRIPT, IMG, ESC, BIDI, 'plain']) {
      p.on(name, (args, ack) => ack && ack(IMG, { html: SCRIPT, esc: ESC, bidi: BIDI }));
    }
  };
  serve(srv.io.of('/'), log, setup);
  serve(srv.io.of(/^\/.*$/), log, setup);
  srv.io.of('/private').use((s, next) => next(Object.assign(new Error(IMG + ESC), { data: { html: SCRIPT } })));

  const headers = { 'user-agent': UA };
  const mgr = manager(port, 'hostile', { extraHeaders: headers });
  const main = socket(mgr, log, 'hostile', '/');
  await main.connected();
  await main.emitAck(SCRIPT, IMG, ESC, BIDI);
  main.emit(IMG, { [SCRIPT]: ESC });
  await sleep(450); // a heartbeat, and the upgrade to WebSocket
  await main.emitAck(ESC, BIDI);
  await main.emitAck(BIDI, SCRIPT);
  const odd = socket(mgr, log, 'hostile', NSP);
  await odd.connected();
  await odd.emitAck('plain', SCRIPT + ESC + BIDI);
  odd.emit(SCRIPT, Buffer.from('<script>alert("bin")</script>'));
  const denied = socket(mgr, log, 'hostile', '/private');
  await denied.connected().catch(() => null);
  denied.sock.close();

  const mgr2 = manager(port, 'hostile-ws', { transports: ['websocket'], extraHeaders: headers });
  const ws = socket(mgr2, log, 'hostile-ws', NSP);
  await ws.connected();
  await ws.emitAck(IMG, ESC);
  await sleep(450);
  odd.sock.disconnect();
  ws.sock.disconnect();
  await sleep(50);
  main.sock.disconnect();
  await sleep(50);
  await srv.close();
};
