// Engine.IO encoding oracle for ioproto's tests.
//
// Reads JSON lines on stdin, one request each:
//   {"rev": 4 | 3, "op": "packet" | "payload" | "xhr2", "binary": bool,
//    "packets": [{"type": "message", "data": "text" | {"b64": "..."} | null}]}
// "packet" encodes packets[0] (encodePacket, with binary support if "binary");
// "payload" encodes the list (v4 encodePayload; v3 encodePayload with supportsBinary = "binary");
// "xhr2" (v3 only) encodes with encodePayloadAsBinary.
// Prints one JSON line per request: {"text": "..."} or {"hex": "..."} or {"error": "..."}.
"use strict";

const path = require("path");
const readline = require("readline");
const modules = path.join(__dirname, "node_modules");
const v4 = require(path.join(modules, "engine.io-parser"));
const v3 = require(path.join(modules, "engine.io-parser-v3"));

function toPacket(p) {
  const packet = { type: p.type };
  if (p.data !== null && p.data !== undefined) {
    packet.data = typeof p.data === "string" ? p.data : Buffer.from(p.data.b64, "base64");
  }
  return packet;
}

function toJson(encoded) {
  if (typeof encoded === "string") return { text: encoded };
  return { hex: Buffer.from(encoded).toString("hex") };
}

function encode(request) {
  const packets = request.packets.map(toPacket);
  let result;
  const done = (value) => { result = value; };
  if (request.rev === 4) {
    if (request.op === "packet") v4.encodePacket(packets[0], !!request.binary, done);
    else v4.encodePayload(packets, done);
  } else {
    if (request.op === "packet") v3.encodePacket(packets[0], !!request.binary, false, done);
    else if (request.op === "xhr2") v3.encodePayloadAsBinary(packets, done);
    else v3.encodePayload(packets, !!request.binary, done);
  }
  if (result === undefined) throw new Error("encoder did not call back synchronously");
  return toJson(result);
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let out;
  try {
    out = encode(JSON.parse(line));
  } catch (e) {
    out = { error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
