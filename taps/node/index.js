'use strict';
/**
 * ioproto-tap: streams every Engine.IO packet a socket.io / engine.io server receives and
 * sends to `ioproto collect` (tap stream format version 1, see docs/taps.md).
 *
 *   require('ioproto-tap')(io, { collector: '127.0.0.1:7788' });
 *
 * Works with socket.io 4.x (engine.io 6) and 2.x (engine.io 3), and with a bare engine.io
 * server. What it listens to, per Engine.IO socket (from the engine's `connection` event):
 *   - `packet` (every packet the socket receives on its current transport): c2s;
 *   - each transport's `send(packets)` (wrapped on that transport object only): s2c, exactly
 *     the packets written, on the transport they went on (none written to a poll whose
 *     connection had closed: they never left; the socket's `packetCreate` fires
 *     when a packet is queued, not sent, and misses those a transport writes itself: the
 *     noops that end a poll during an upgrade, the close appended to a poll);
 *   - `upgrading` / `upgrade`: the probe exchange and the upgrade packet, which the socket
 *     handles on the new transport before it emits them (so they get no `packet` event);
 *   - `close`: the session's end and engine.io's reason (`transport close`, `ping timeout`,
 *     ...), from which the collector's Engine.IO layer ends a session the server ended
 *     without an Engine.IO close; a close packet a client sends on polling is
 *     handled by the polling transport itself, so its `onData`/`onClose` are wrapped too.
 * The handshake's `open` packet is sent before the engine emits `connection`; the tap
 * rebuilds it from the socket with the same fields the server writes.
 *
 * Never hurts the app: records wait in a buffer bounded in bytes (`bufferBytes`, default
 * 8 MiB, counting what the socket has not written yet); beyond it they are dropped and
 * counted. The collector connection reconnects with backoff (100 ms doubling to 5 s); its
 * timers and socket are unref'd, and every handler swallows its own errors.
 */
const net = require('net');
const os = require('os');
const { performance } = require('perf_hooks');

const VERSION = 1;
const TYPES = { open: 0, close: 1, ping: 2, pong: 3, message: 4, upgrade: 5, noop: 6 };
const OVERHEAD = 96;
const FLUSH_MS = 5;
const BACKOFF_START = 100;
const BACKOFF_MAX = 5000;
const DROP_REPORT_MS = 1000;

function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function parseAddress(text) {
  if (text.startsWith('unix:')) return { path: text.slice(5) };
  let host = '127.0.0.1';
  let port = text;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    host = text.slice(1, end);
    port = text.slice(end + 2);
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':');
    host = text.slice(0, at) || host;
    port = text.slice(at + 1);
  }
  if (!/^\d+$/.test(port) || Number(port) > 65535) {
    throw new Error(`ioproto-tap: collector ${JSON.stringify(text)} is not HOST:PORT or unix:PATH`);
  }
  return { host, port: Number(port) };
}

function hostport(address, port) {
  if (!address || port === undefined) return undefined;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A packet ({type, data}) in its tap-stream form: text packet string, or binary data. */
function packetForm(packet) {
  const digit = TYPES[packet.type];
  const type = digit === undefined ? packet.type : digit;
  const data = packet.data;
  if (data === undefined || data === null) return String(type);
  if (typeof data === 'string') return type + data;
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return type + String(data);
}

function sizeOf(form) {
  return form.length + OVERHEAD;
}

/** What the tap knows of an HTTP request: method, target, headers, both ends. */
function requestFacts(req, netSocket) {
  const facts = {};
  if (!req) return facts;
  facts.m = req.method;
  facts.u = req.url;
  const raw = req.rawHeaders;
  if (Array.isArray(raw)) {
    const headers = [];
    for (let i = 0; i + 1 < raw.length; i += 2) headers.push([String(raw[i]).toLowerCase(), String(raw[i + 1])]);
    facts.h = headers;
  }
  const sock = netSocket || req.socket || req.connection;
  if (sock) {
    const ra = hostport(sock.remoteAddress, sock.remotePort);
    const la = hostport(sock.localAddress, sock.localPort);
    if (ra) facts.ra = ra;
    if (la) facts.la = la;
  }
  return facts;
}

class Link {
  constructor(address, hello, maxBytes) {
    this.address = address;
    this.hello = hello;
    this.maxBytes = maxBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.sock = null;
    this.connected = false;
    this.closed = false;
    this.backoff = BACKOFF_START;
    this.retryTimer = null;
    this.flushTimer = null;
    this.dropped = { n: 0, b: 0, totalN: 0, totalB: 0 };
    this.lastDropReport = 0;
    this.dropTimer = null;
    this.sent = 0;
    this.connects = 0;
    this.failures = 0;
    this.connect();
  }

  /** Queue one record (an object, or a ready line); false when it was dropped. Never throws. */
  push(record, size) {
    const pending = this.queuedBytes + (this.sock ? this.sock.writableLength : 0);
    if (this.closed || pending + size > this.maxBytes) {
      this.drop(1, size);
      return false;
    }
    this.queue.push(record);
    this.queuedBytes += size;
    if (this.connected && !this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), FLUSH_MS);
      this.flushTimer.unref();
    }
    return true;
  }

  drop(records, bytes) {
    const d = this.dropped;
    d.n += records;
    d.b += bytes;
    d.totalN += records;
    d.totalB += bytes;
    if (!this.dropTimer && this.connected) {
      const wait = Math.max(0, this.lastDropReport + DROP_REPORT_MS - Date.now());
      this.dropTimer = setTimeout(() => { this.dropTimer = null; this.reportDrops(); }, wait);
      this.dropTimer.unref();
    }
  }

  reportDrops() {
    const d = this.dropped;
    if (!d.n || !this.connected) return;
    this.lastDropReport = Date.now();
    const record = { t: 'drop', ts: now(), n: d.n, b: d.b, total_n: d.totalN, total_b: d.totalB };
    d.n = 0;
    d.b = 0;
    this.write(JSON.stringify(record) + '\n');
  }

  connect() {
    if (this.closed) return;
    this.retryTimer = null;
    const sock = this.address.path !== undefined
      ? net.connect({ path: this.address.path })
      : net.connect({ host: this.address.host, port: this.address.port });
    this.sock = sock;
    sock.unref();
    sock.setNoDelay(true);
    sock.on('connect', () => {
      this.connected = true;
      this.connects += 1;
      this.backoff = BACKOFF_START;
      const hello = Object.assign({}, this.hello, { dropped: this.dropped.totalN });
      this.write(JSON.stringify(hello) + '\n');
      this.reportDrops();
      this.flush();
    });
    sock.on('drain', () => this.flush());
    sock.on('error', () => {}); // 'close' follows; the app never sees it
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.connected = false;
      this.sock = null;
      if (this.closed) return;
      this.retryTimer = setTimeout(() => this.connect(), this.backoff);
      this.retryTimer.unref();
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX);
    });
  }

  write(text) {
    try {
      return this.sock.write(text);
    } catch (err) {
      this.failures += 1;
      return false;
    }
  }

  flush() {
    this.flushTimer = null;
    if (!this.connected || !this.queue.length) return;
    if (this.sock.writableNeedDrain) return; // 'drain' calls again
    const records = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    let text = '';
    for (const record of records) {
      try {
        text += typeof record === 'string' ? record : JSON.stringify(record) + '\n';
      } catch (err) {
        this.failures += 1;
      }
    }
    this.sent += records.length;
    this.write(text);
  }

  close() {
    this.flush();
    this.closed = true;
    for (const timer of [this.retryTimer, this.flushTimer, this.dropTimer]) if (timer) clearTimeout(timer);
    if (this.sock) this.sock.end();
  }
}

function safe(fn, fallback) {
  try { return fn(); } catch (err) { return fallback; }
}

function engineOf(server) {
  if (server && server.engine && typeof server.engine.on === 'function') return server.engine;
  if (server && server.eio && typeof server.eio.on === 'function') return server.eio;
  if (server && typeof server.handshake === 'function' && typeof server.on === 'function') return server;
  throw new TypeError('ioproto-tap: pass a socket.io Server (attached to an HTTP server) or an engine.io Server');
}

/** `name/version` of the package whose module exports `ctor` (found among loaded modules). */
function packageOf(ctor) {
  const fs = require('fs');
  const path = require('path');
  for (const [file, mod] of Object.entries(require.cache)) {
    const exp = mod && mod.exports;
    if (!exp || (exp !== ctor && exp.Server !== ctor && exp.Socket !== ctor)) continue;
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const manifest = path.join(dir, 'package.json');
      if (fs.existsSync(manifest)) {
        const { name, version } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
        if (name && version) return `${name}/${version}`;
      }
    }
  }
  return null;
}

function libraryName(server, engine) {
  const names = [];
  for (const found of [server !== engine && packageOf(server.constructor), packageOf(engine.constructor)]) {
    if (found) names.push(found);
  }
  if (!names.length) names.push(engine.opts ? 'engine.io/6' : 'engine.io/3');
  return names.join(' ');
}

/**
 * Tap `server` (a socket.io Server or an engine.io Server).
 * options: collector ('HOST:PORT' | 'unix:PATH'; default $IOPROTO_COLLECTOR or
 * '127.0.0.1:7788'), bufferBytes (default 8 MiB), app (a name shown by the collector).
 * Returns { close(), stats() }.
 */
function tap(server, options = {}) {
  const engine = engineOf(server);
  const address = parseAddress(String(options.collector || process.env.IOPROTO_COLLECTOR || '127.0.0.1:7788'));
  const hello = {
    t: 'hello', v: VERSION, tap: 'node', lib: safe(() => libraryName(server, engine), 'engine.io'), pid: process.pid,
    host: os.hostname(), app: options.app || null,
  };
  const link = new Link(address, hello, options.bufferBytes || 8 * 1024 * 1024);
  const upgradeRequests = new Map(); // sid -> the WebSocket upgrade request (engine.io 6)

  const guard = (fn) => function guarded(...args) {
    try {
      return fn.apply(this, args);
    } catch (err) {
      link.failures += 1;
      return undefined;
    }
  };

  // The hot path: one line per packet, written as a string (no object, no stringify of one).
  const packet = (sid, d, tr, form) => {
    const body = typeof form === 'string' ? JSON.stringify(form) : '{"$bytes":"' + form.toString('base64') + '"}';
    link.push('{"t":"p","ts":' + now() + ',"sid":' + JSON.stringify(sid) + ',"d":"' + d + '","tr":' + JSON.stringify(tr) + ',"p":' + body + '}\n', sizeOf(form));
  };

  // Whether `transport` is a polling transport whose waiting poll's connection has closed.
  const pollGone = (transport) => {
    try {
      const req = transport.name === 'polling' ? transport.req : null;
      return Boolean(req && req.socket && req.socket.destroyed);
    } catch (err) {
      return false;
    }
  };

  const hookTransport = (socket, transport) => {
    if (!transport || transport.__ioprotoTap) return;
    const send = transport.send;
    if (typeof send !== 'function') return;
    transport.__ioprotoTap = true;
    transport.send = function tappedSend(packets) {
      let before = 0;
      // Packets written to a poll whose connection is gone never leave (the close packet
      // engine.io writes as it ends a session over a poll cut off): a capture sees none.
      const gone = pollGone(transport);
      try {
        before = packets.length;
        if (!gone) for (const p of packets) packet(socket.id, 's2c', transport.name, packetForm(p));
      } catch (err) {
        link.failures += 1;
      }
      const result = send.apply(this, arguments);
      try {
        // a polling transport may append a close packet to what it was given
        if (!gone) for (let i = before; i < packets.length; i++) packet(socket.id, 's2c', transport.name, packetForm(packets[i]));
      } catch (err) {
        link.failures += 1;
      }
      return result;
    };
    if (transport.name === 'polling' && typeof transport.onData === 'function' && typeof transport.onClose === 'function') {
      // A polling transport handles a close packet from the client itself (it never becomes
      // a `packet` event): it calls onClose() while decoding a request body.
      const onData = transport.onData;
      const onClose = transport.onClose;
      let decoding = false;
      transport.onData = function tappedOnData() {
        decoding = true;
        try {
          return onData.apply(this, arguments);
        } finally {
          decoding = false;
        }
      };
      transport.onClose = function tappedOnClose() {
        if (decoding) guard(() => packet(socket.id, 'c2s', 'polling', '1'))();
        return onClose.apply(this, arguments);
      };
    }
  };

  const onHeaders = guard((headers, req) => {
    const query = req && req._query;
    if (query && query.sid && query.transport === 'websocket') {
      if (upgradeRequests.size > 10000) upgradeRequests.clear();
      upgradeRequests.set(query.sid, requestFacts(req));
    }
  });

  const onConnection = guard((socket) => {
    const sid = socket.id;
    const req = socket.request;
    const transport = socket.transport;
    const query = (req && req._query) || {};
    const revision = socket.protocol || (query.EIO ? Number(query.EIO) : 3);
    link.push({ t: 'open', ts: now(), sid, tr: transport.name, eio: revision, req: requestFacts(req), rts: null }, OVERHEAD * 4);
    // The open packet went out before `connection`: rebuild it as Socket#onOpen writes it.
    const opts = socket.server.opts || socket.server;
    const handshake = { sid, upgrades: socket.getAvailableUpgrades(), pingInterval: opts.pingInterval, pingTimeout: opts.pingTimeout };
    if (socket.server.opts) handshake.maxPayload = opts.maxHttpBufferSize;
    packet(sid, 's2c', transport.name, '0' + JSON.stringify(handshake));
    if (opts.initialPacket) packet(sid, 's2c', transport.name, packetForm({ type: 'message', data: opts.initialPacket }));
    hookTransport(socket, transport);

    socket.on('packet', (p) => {
      try {
        packet(sid, 'c2s', socket.transport.name, packetForm(p));
      } catch (err) {
        link.failures += 1;
      }
    });
    socket.on('upgrading', guard((next) => {
      const facts = upgradeRequests.get(sid) || requestFacts(null);
      upgradeRequests.delete(sid);
      if (!facts.ra && next.socket && next.socket._socket) {
        const s = next.socket._socket;
        facts.ra = hostport(s.remoteAddress, s.remotePort);
        facts.la = hostport(s.localAddress, s.localPort);
      }
      link.push({ t: 'upgrade', ts: now(), sid, tr: next.name, req: facts }, OVERHEAD * 4);
      packet(sid, 'c2s', next.name, '2probe');
      packet(sid, 's2c', next.name, '3probe');
      hookTransport(socket, next);
    }));
    socket.on('upgrade', guard((next) => {
      hookTransport(socket, next);
      packet(sid, 'c2s', next.name, '5');
    }));
    socket.on('close', guard((reason) => {
      upgradeRequests.delete(sid);
      link.push({ t: 'close', ts: now(), sid, reason: reason === undefined ? null : String(reason) }, OVERHEAD);
    }));
  });

  engine.on('connection', onConnection);
  engine.on('headers', onHeaders);
  return {
    close() {
      engine.removeListener('connection', onConnection);
      engine.removeListener('headers', onHeaders);
      link.close();
    },
    stats() {
      return {
        queued: link.queue.length,
        queuedBytes: link.queuedBytes,
        sent: link.sent,
        dropped: link.dropped.totalN,
        droppedBytes: link.dropped.totalB,
        connects: link.connects,
        connected: link.connected,
        failures: link.failures,
      };
    },
  };
}

module.exports = tap;
module.exports.tap = tap;
module.exports.packetForm = packetForm;
module.exports.parseAddress = parseAddress;
module.exports.VERSION = VERSION;
