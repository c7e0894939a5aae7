'use strict';
/** socket.io 4.8.1 / socket.io-client 4.8.1 helpers (EIO 4, SIO 5). */
const http = require('http');
const { req, Peer, listen, sleep } = require('./common');

const { Server } = req('socket.io');
const { io: ioClient, Manager } = req('socket.io-client');

/** Start a socket.io 4 server on 127.0.0.1:port. */
async function startServer(port, opts = {}, wrapUpgrade = null) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, opts);
  if (wrapUpgrade) {
    // Re-route the 'upgrade' listeners installed by engine.io through `wrapUpgrade`.
    const listeners = httpServer.listeners('upgrade');
    httpServer.removeAllListeners('upgrade');
    httpServer.on('upgrade', (...a) => wrapUpgrade(() => listeners.forEach((l) => l.apply(httpServer, a))));
  }
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
  return new Manager(`http://127.0.0.1:${port}`, {
    reconnection: false,
    query: { client: label },
    ...opts,
  });
}

/** A logged client socket on `nsp` of manager `mgr`. */
function socket(mgr, log, label, nsp = '/', opts = {}) {
  const s = mgr.socket(nsp, opts);
  return new Peer(log, 'client', label, s).watchLifecycle();
}

module.exports = { Server, ioClient, Manager, startServer, serve, manager, socket };
