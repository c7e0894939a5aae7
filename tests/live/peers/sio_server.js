'use strict';
/**
 * A real socket.io 4.8.1 server for the live tests: `node sio_server.js PORT [static-dir]`.
 * Prints `READY <port>` once listening (PORT 0 picks a free port). Handlers:
 *   echo(...args, ack)   -> ack([...args])
 *   binary(buf, ack)     -> ack(reversed buf)
 *   ask()                -> emits question("6*7?", ack) and then answer-received(answer)
 *   drop-me()            -> closes the Engine.IO connection (the client reconnects)
 *   bye(code)            -> nothing; the client disconnects itself
 *   /admin namespace     -> needs auth {token: "s3cret"}; stats(ack) -> ack({users, uptime})
 *   count(n)             -> counts fire-and-forget events; total(ack) -> ack(count on this socket)
 *   broadcast(msg)       -> emits news(msg) to everyone
 * With a static dir, GET /<file> serves files from it and GET /socket.io.js the client bundle.
 * IOPROTO_PEER_PING=INTERVAL,TIMEOUT sets pingInterval and pingTimeout (ms).
 * Exits on SIGTERM/SIGINT.
 */
const http = require('http');
const fs = require('fs');
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const { Server } = require(path.join(NODE_MODULES, 'socket.io'));

const port = Number(process.argv[2] || 0);
const staticDir = process.argv[3] || null;

const httpServer = http.createServer((req, res) => {
  if (!staticDir) return; // engine.io answers its own path; other paths: 404 by engine.io
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/socket.io/')) return;
  let file;
  if (url.pathname === '/socket.io.js') {
    file = path.join(NODE_MODULES, 'socket.io', 'client-dist', 'socket.io.js');
  } else {
    file = path.join(staticDir, path.basename(url.pathname) || 'index.html');
  }
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end('not found'); return; }
    const type = file.endsWith('.js') ? 'application/javascript' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type });
    res.end(data);
  });
});
// IOPROTO_PEER_PARSER=msgpack: socket.io-msgpack-parser (the tap tests run both parsers).
const parser = process.env.IOPROTO_PEER_PARSER === 'msgpack'
  ? require(path.join(NODE_MODULES, 'socket.io-msgpack-parser')) : undefined;
// IOPROTO_PEER_PING=INTERVAL,TIMEOUT: pingInterval and pingTimeout in ms (a dead client found fast).
const [pingInterval, pingTimeout] = (process.env.IOPROTO_PEER_PING || '').split(',').map(Number);
const ping = pingInterval && pingTimeout ? { pingInterval, pingTimeout } : {};
const io = new Server(httpServer, { maxHttpBufferSize: 5e6, ...(parser ? { parser } : {}), ...ping });
// IOPROTO_TAP_COLLECTOR=HOST:PORT: run with the ioproto-tap package (taps/node) on this server.
if (process.env.IOPROTO_TAP_COLLECTOR) {
  require(path.resolve(__dirname, '..', '..', '..', 'taps', 'node'))(io, { collector: process.env.IOPROTO_TAP_COLLECTOR });
}

io.on('connection', (socket) => {
  let counted = 0;
  socket.on('echo', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (ack) ack(args);
  });
  socket.on('binary', (buf, ack) => ack(Buffer.from(buf).reverse()));
  socket.on('ask', () => {
    socket.emit('question', '6*7?', (answer) => socket.emit('answer-received', answer));
  });
  socket.on('drop-me', () => socket.conn.close());
  socket.on('count', () => { counted += 1; });
  socket.on('total', (ack) => ack(counted));
  socket.on('broadcast', (msg) => io.emit('news', msg));
});
io.of('/admin').use((s, next) => (s.handshake.auth.token === 's3cret' ? next() : next(new Error('forbidden'))));
io.of('/admin').on('connection', (socket) => {
  socket.on('stats', (ack) => ack({ users: 1, uptime: 42.5 }));
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`READY ${httpServer.address().port}`);
});
const stop = () => { io.close(); httpServer.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
