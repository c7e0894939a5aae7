'use strict';
/** socket.io 2.5.1 / socket.io-client 2.5.0 helpers (EIO 3, SIO 4). */
const http = require('http');
const { req, Peer, listen, sleep } = require('./common');

const ioServer = req('socket.io-v2');
const ioClient = req('socket.io-client-v2');

/** Start a socket.io 2 server on 127.0.0.1:port. */
async function startServer(port, opts = {}) {
  const httpServer = http.createServer();
  const io = ioServer(httpServer, opts);
  await listen(httpServer, port);
  return {
    io,
    httpServer,
    async close() {
      io.close();
      await sleep(20);
    },
  };
}

/** Log every connection of a server namespace and let `setup(peer)` add handlers. */
function serve(nsp, log, setup) {
  nsp.on('connection', (s) => {
    const label = (s.handshake.query && s.handshake.query.client) || s.id;
    const peer = new Peer(log, 'server', label, s).watchLifecycle();
    if (setup) setup(peer);
  });
}

/** A Manager (one Engine.IO session) for a labelled client. */
function manager(port, label, opts = {}) {
  return new ioClient.Manager(`http://127.0.0.1:${port}`, {
    reconnection: false,
    query: { client: label },
    ...opts,
  });
}

/** A logged client socket on `nsp`; `opts.query` becomes the namespace query string. */
function socket(mgr, log, label, nsp = '/', opts = {}) {
  const s = mgr.socket(nsp, opts);
  return new Peer(log, 'client', label, s).watchLifecycle();
}

module.exports = { startServer, serve, manager, socket };
