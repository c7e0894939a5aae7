'use strict';
/**
 * Shared helpers for the Node peers: module loading from tests/node/node_modules, the
 * application-level JSON-lines log (schema in tests/peers/README.md) and a thin wrapper that
 * logs every emit/recv/ack of a Socket.IO socket (client or server side, v2 or v4 APIs).
 */
const fs = require('fs');
const path = require('path');
const http = require('http');

const NODE_MODULES = path.join(__dirname, '..', '..', 'node', 'node_modules');

/** Require a package pinned in tests/node/package.json. */
function req(name) {
  return require(path.join(NODE_MODULES, name));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wall clock in unix seconds with sub-millisecond resolution (comparable to pcap times). */
function now() {
  return (performance.timeOrigin + performance.now()) / 1000;
}

/** Convert Socket.IO arguments into JSON: bytes become {"$bytes": base64}. */
function jsonable(value) {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString('base64') };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString('base64') };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(jsonable);
  if (value instanceof Error) {
    const out = { message: value.message };
    if (value.data !== undefined) out.data = jsonable(value.data);
    return out;
  }
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = jsonable(v);
    return out;
  }
  return value === undefined ? null : value;
}

/** Application log: one JSON object per action, written at the end of the run. */
class Log {
  constructor(file) {
    this.file = file;
    this.records = [];
  }

  add(side, client, action, fields = {}) {
    this.records.push({
      t: now(),
      side,
      client,
      action,
      nsp: fields.nsp === undefined ? '/' : fields.nsp,
      event: fields.event === undefined ? null : fields.event,
      args: jsonable(fields.args || []),
      ack_id: fields.ack_id === undefined ? null : fields.ack_id,
      transport: fields.transport === undefined ? null : fields.transport,
    });
  }

  write() {
    const text = this.records.map((r) => JSON.stringify(r)).join('\n');
    fs.writeFileSync(this.file, text + (text ? '\n' : ''));
  }
}

/**
 * A logged Socket.IO socket. `side` is "client" or "server"; `label` names the client the
 * socket belongs to (on the server side: the client at the other end).
 */
class Peer {
  constructor(log, side, label, sock) {
    this.log = log;
    this.side = side;
    this.label = label;
    this.sock = sock;
    // The ack id is private to the libraries; wrapping `ack(id)` lets us record it.
    const origAck = sock.ack;
    if (typeof origAck === 'function') {
      sock.ack = function ackWithId(id) {
        const fn = origAck.call(this, id);
        fn.ackId = id;
        return fn;
      };
    }
  }

  get nsp() {
    const n = this.sock.nsp;
    return typeof n === 'string' ? n : n.name;
  }

  transport() {
    try {
      if (this.side === 'client') return this.sock.io.engine.transport.name;
      return this.sock.conn.transport.name;
    } catch (e) {
      return null;
    }
  }

  nextAckId() {
    if (this.side === 'client') return this.sock.ids;
    const n = this.sock.nsp;
    return n._ids !== undefined ? n._ids : n.ids;
  }

  record(action, fields) {
    this.log.add(this.side, this.label, action, {
      nsp: this.nsp,
      transport: this.transport(),
      ...fields,
    });
  }

  /** Emit without ack. */
  emit(event, ...args) {
    this.record('emit', { event, args });
    this.sock.emit(event, ...args);
  }

  /** Emit with an ack callback; resolves with the ack arguments. */
  emitAck(event, ...args) {
    const ackId = this.nextAckId();
    this.record('emit', { event, args, ack_id: ackId });
    return new Promise((resolve) => {
      this.sock.emit(event, ...args, (...ackArgs) => {
        this.record('ack-recv', { event, args: ackArgs, ack_id: ackId });
        resolve(ackArgs);
      });
    });
  }

  /**
   * Handle an event. `handler(args, ack)` gets the arguments and, when the sender asked for
   * one, a logging ack function (otherwise null).
   */
  on(event, handler) {
    this.sock.on(event, (...args) => {
      let ack = null;
      if (args.length && typeof args[args.length - 1] === 'function') {
        const fn = args.pop();
        const ackId = fn.ackId === undefined ? null : fn.ackId;
        ack = (...ackArgs) => {
          this.record('ack-sent', { event, args: ackArgs, ack_id: ackId });
          fn(...ackArgs);
        };
        this.record('recv', { event, args, ack_id: ackId });
      } else {
        this.record('recv', { event, args });
      }
      if (handler) handler(args, ack);
    });
  }

  /** Log connect/connect_error/disconnect of this socket. */
  watchLifecycle() {
    if (this.side === 'client') {
      if (this.sock.connected) this.record('connect', {});
      else this.sock.on('connect', () => this.record('connect', {}));
      this.sock.on('connect_error', (err) => this.record('connect_error', { args: [err] }));
      // socket.io-client 2.x reports namespace errors as 'error'.
      this.sock.on('error', (err) => this.record('connect_error', { args: [err] }));
    } else {
      this.record('connect', {});
    }
    this.sock.on('disconnect', (reason) => this.record('disconnect', { args: [reason] }));
    return this;
  }

  /** Resolve when the socket is connected (client side). */
  connected() {
    if (this.sock.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.sock.once('connect', resolve);
      this.sock.once('connect_error', reject);
    });
  }
}

/** Resolve once a client socket got `event` (used to sequence scenarios deterministically). */
function once(sock, event) {
  return new Promise((resolve) => sock.once(event, (...a) => resolve(a)));
}

/** Resolve once the client's engine runs over websocket. */
function upgraded(clientSock) {
  const engine = clientSock.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve) => engine.once('upgrade', () => resolve()));
}

/** Plain HTTP request; resolves with {status, headers, body}. */
function httpRequest(options, body) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', agent: false, ...options }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    r.on('error', reject);
    if (body !== undefined) r.write(body);
    r.end();
  });
}

/**
 * A hand-written EIO4 polling session, as curl would make one: the handshake GET, then
 * `{ sid, url, headers, post(body), get() }` for the session's requests (each on a connection
 * of its own).
 */
async function rawPollingSession(port, label, headers) {
  const base = `/socket.io/?EIO=4&transport=polling&client=${label}`;
  const hs = await httpRequest({ port, path: base, headers });
  const sid = JSON.parse(hs.body.toString().slice(1)).sid;
  const url = `${base}&sid=${sid}`;
  const post = (body) =>
    httpRequest({ port, method: 'POST', path: url, headers: { ...headers, 'Content-Type': 'text/plain;charset=UTF-8' } }, body);
  const get = () => httpRequest({ port, path: url, headers });
  return { sid, url, headers, post, get };
}

/** Start an http.Server on 127.0.0.1:port. */
function listen(server, port) {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

/** Spawn `argv` (stdout piped) and resolve with the child once it prints READY. */
async function spawnReady(argv, label) {
  const { spawn } = require('child_process');
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (data) => {
      seen += data;
      if (seen.includes('READY')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`${label} exited ${code} before READY`)));
  });
  return child;
}

module.exports = {
  spawnReady,
  req,
  sleep,
  now,
  jsonable,
  Log,
  Peer,
  once,
  upgraded,
  httpRequest,
  rawPollingSession,
  listen,
  NODE_MODULES,
};
