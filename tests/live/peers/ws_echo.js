'use strict';
/**
 * A plain WebSocket echo server (the `ws` package, no Socket.IO) for the proxy's relay tests:
 * `node ws_echo.js [PORT]`. Prints `READY <port>` once listening on 127.0.0.1 (PORT 0, the
 * default, picks a free port). permessage-deflate is offered with threshold 0, so when the
 * client negotiates it every message is compressed. Text and binary messages are echoed as
 * they came; the text "close-me" makes the server close with code 4001, reason "bye".
 * Exits on SIGTERM/SIGINT.
 */
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const { WebSocketServer } = require(path.join(NODE_MODULES, 'ws'));

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer(
  { host: '127.0.0.1', port, perMessageDeflate: { threshold: 0 } },
  () => console.log(`READY ${wss.address().port}`),
);

wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === 'close-me') {
      socket.close(4001, 'bye');
      return;
    }
    socket.send(data, { binary: isBinary });
  });
});

const stop = () => { wss.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
