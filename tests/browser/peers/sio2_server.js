'use strict';
/**
 * A real socket.io 2.5.1 server (Engine.IO 3) for the browser tests, with the handlers of
 * tests/live/peers/sio_server.js: `node sio2_server.js PORT STATIC_DIR`. Serves STATIC_DIR
 * and, as /socket.io.js, the socket.io-client 2.5.0 bundle. Prints `READY <port>`.
 * /admin needs the query token "s3cret" (2.x has no auth payload).
 */
const http = require('http');
const fs = require('fs');
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const ioServer = require(path.join(NODE_MODULES, 'socket.io-v2'));

const port = Number(process.argv[2] || 0);
const staticDir = process.argv[3];
const BUNDLE = path.join(NODE_MODULES, 'socket.io-client-v2', 'dist', 'socket.io.js');

const httpServer = http.createServer();
const io = ioServer(httpServer, { serveClient: false, maxHttpBufferSize: 5e6 });
// Static files: answered before engine.io sees the request (it only claims /socket.io/).
httpServer.prependListener('request', (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname.startsWith('/socket.io/')) return;
  const file = url.pathname === '/socket.io.js'
    ? BUNDLE : path.join(staticDir, path.basename(url.pathname) || 'index.html');
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end('not found'); return; }
    const type = file.endsWith('.js') ? 'application/javascript' : 'text/html; charset=utf-8';
    res.writeHead(200, { 'Content-Type': type });
    res.end(data);
  });
});

io.on('connection', (socket) => {
  socket.on('echo', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (ack) ack(args);
  });
  socket.on('binary', (buf, ack) => ack(Buffer.from(buf).reverse()));
  socket.on('ask', () => {
    socket.emit('question', '6*7?', (answer) => socket.emit('answer-received', answer));
  });
  socket.on('drop-me', () => socket.conn.close());
});
io.of('/admin').use((s, next) => (s.handshake.query.token === 's3cret' ? next() : next(new Error('forbidden'))));
io.of('/admin').on('connection', (socket) => {
  socket.on('stats', (ack) => ack({ users: 1, uptime: 42.5 }));
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`READY ${httpServer.address().port}`);
});
const stop = () => { io.close(); httpServer.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
