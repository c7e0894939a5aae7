// A real Socket.IO 4.8.1 session (server + socket.io-client over WebSocket on 127.0.0.1),
// recorded for ioproto's tests.
//
// Usage: node sio_session.js OUT.jsonl
//
// Writes one JSON object per line:
//   {"kind":"eio","direction":"c2s"|"s2c","type":"message",
//    "data": "<text>" | {"$bytes":"<base64>"}, "sid": "...", "seq": n}
//       every Engine.IO packet the client engine created (c2s) or received (s2c), in order;
//   {"kind":"app","direction":"c2s"|"s2c","type":"EVENT"|"ACK","nsp":"/",
//    "event": "name" (for an ACK: the name of the event it answers), "args":[...]}
//       what the applications emitted (EVENTs, in the order the sender emitted them) and
//       the ack replies as the asker's callback received them.
// Bytes inside args are {"$bytes": "<base64>"}.
"use strict";

const fs = require("fs");
const http = require("http");
const { Server } = require("socket.io");
const { io } = require("socket.io-client");

const out = process.argv[2];
const lines = [];
let seq = 0;

function plain(value) {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const result = {};
    for (const key of Object.keys(value)) result[key] = plain(value[key]);
    return result;
  }
  return value;
}

function app(direction, type, nsp, event, args) {
  lines.push({ kind: "app", direction, type, nsp, event, args: plain(args) });
}

const httpServer = http.createServer();
const server = new Server(httpServer);

function serve(namespace) {
  namespace.on("connection", (socket) => {
    socket.onAny((event, ...args) => {
      const callback = typeof args[args.length - 1] === "function" ? args.pop() : null;
      if (!callback) return;
      let reply;
      if (event === "upload") reply = [{ size: args[0].length }, Buffer.from([9, 8, 7])];
      else if (event === "admin-op") reply = ["done", { nsp: namespace.name }];
      else reply = [{ ok: true, echo: args }];
      callback(...reply);
    });
    const welcome = ["welcome", { nsp: namespace.name, n: 1 }];
    app("s2c", "EVENT", namespace.name, welcome[0], welcome.slice(1));
    socket.emit(...welcome);
    if (namespace.name === "/") {
      const bin = ["bin", Buffer.from("server bytes"), { deep: [Buffer.from([0, 255])] }];
      app("s2c", "EVENT", "/", bin[0], bin.slice(1));
      socket.emit(...bin);
      app("s2c", "EVENT", "/", "ask", [{ q: "bytes please" }]);
      socket.emit("ask", { q: "bytes please" }, (...answer) => {
        app("c2s", "ACK", "/", "ask", answer);
        done();
      });
      app("s2c", "EVENT", "/", "ask-text", []);
      socket.emit("ask-text", (...answer) => {
        app("c2s", "ACK", "/", "ask-text", answer);
        done();
      });
    }
  });
}
serve(server.of("/"));
serve(server.of("/admin"));

let pending = 0;
let finished = false;
function expect(count) {
  pending += count;
}
function done() {
  pending -= 1;
  if (pending === 0 && !finished) {
    finished = true;
    setTimeout(finish, 100);
  }
}

function finish() {
  root.disconnect();
  admin.disconnect();
  setTimeout(() => {
    fs.writeFileSync(out, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
    server.close();
    httpServer.close();
    process.exit(0);
  }, 100);
}

let root;
let admin;
const timer = setTimeout(() => {
  console.error("session timed out");
  process.exit(2);
}, 10000);
timer.unref();

httpServer.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  root = io(url, { transports: ["websocket"] });
  const engine = root.io.engine;
  engine.on("packetCreate", (packet) => {
    lines.push({ kind: "eio", direction: "c2s", type: packet.type, data: plain(packet.data === undefined ? "" : packet.data), sid: engine.id || null, seq: seq++ });
  });
  engine.on("packet", (packet) => {
    lines.push({ kind: "eio", direction: "s2c", type: packet.type, data: plain(packet.data === undefined ? "" : packet.data), sid: engine.id || null, seq: seq++ });
  });
  admin = io(url + "/admin", { transports: ["websocket"] });

  // 4 acks asked by the client, 2 by the server, 2 events received by the client
  expect(4 + 2 + 3);
  // events are logged by their sender; the receiver only counts them
  root.on("welcome", () => done());
  root.on("bin", () => done());
  root.on("ask", (...args) => {
    const callback = args.pop();
    callback(Buffer.from("client bytes"), "and text");
  });
  root.on("ask-text", (callback) => callback());
  admin.on("welcome", () => done());

  root.on("connect", () => {
    const events = [
      ["hello", 1, "two", { three: [true] }],
      ["hello-ack", { a: null, b: [1.5, -2] }, "ü€😀"],
      ["upload", Buffer.from([1, 2, 3, 4]), { name: "f", chunks: [Buffer.from("x"), Buffer.alloc(0)] }],
    ];
    app("c2s", "EVENT", "/", events[0][0], events[0].slice(1));
    root.emit(...events[0]);
    for (const event of events.slice(1)) {
      app("c2s", "EVENT", "/", event[0], event.slice(1));
      root.emit(...event, (...answer) => {
        app("s2c", "ACK", "/", event[0], answer);
        done();
      });
    }
    app("c2s", "EVENT", "/", "numbers", [0, 1e21, -0.5]);
    root.emit("numbers", 0, 1e21, -0.5, (...answer) => {
      app("s2c", "ACK", "/", "numbers", answer);
      done();
    });
  });
  admin.on("connect", () => {
    app("c2s", "EVENT", "/admin", "admin-op", [{ op: "restart" }]);
    admin.emit("admin-op", { op: "restart" }, (...answer) => {
      app("s2c", "ACK", "/admin", "admin-op", answer);
      done();
    });
  });
});
