// Differential oracle: the reference socket.io-parser encoders/decoders behind a JSON-lines pipe.
//
// Reads one JSON object per line on stdin, writes one JSON object per line on stdout.
// Bytes travel as {"$bytes": "<base64>"} both ways.
//
//   {"op": "encode", "v": 5|4, "packet": {"type": 2, "nsp": "/", "id": 1, "data": [...]}}
//     -> {"parts": ["51-...", {"$bytes": "..."}]}
//   {"op": "decode", "v": 5|4, "parts": ["2[\"a\"]", {"$bytes": "..."}]}
//     -> {"packets": [{type, nsp, id, data, attachments}], "error": null | "message"}
//
// v5 is socket.io-parser 4.2.7 (protocol 5), v4 socket.io-parser-v4 (3.4.5, protocol 4).
"use strict";

const readline = require("readline");
const v5 = require("socket.io-parser");
const v4 = require("socket.io-parser-v4");

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$bytes") return Buffer.from(value.$bytes, "base64");
    const out = {};
    for (const key of keys) out[key] = revive(value[key]);
    return out;
  }
  return value;
}

function plain(value) {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("base64") };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = plain(value[key]);
    return out;
  }
  return value === undefined ? null : value;
}

function hasBinary(value) {
  if (Buffer.isBuffer(value)) return true;
  if (Array.isArray(value)) return value.some(hasBinary);
  if (value && typeof value === "object") return Object.values(value).some(hasBinary);
  return false;
}

function encode(version, packet) {
  packet = revive(packet);
  if (packet.id === null) delete packet.id;
  if (packet.data === null) delete packet.data;
  if (version === 5) return new v5.Encoder().encode(packet);
  if (hasBinary(packet.data)) {
    if (packet.type === 2) packet.type = 5;
    if (packet.type === 3) packet.type = 6;
  }
  let parts = null;
  new v4.Encoder().encode(packet, (encoded) => {
    parts = encoded;
  });
  return parts;
}

function decode(version, parts) {
  const decoder = version === 5 ? new v5.Decoder() : new v4.Decoder();
  const packets = [];
  decoder.on("decoded", (packet) => {
    packets.push({
      type: packet.type,
      nsp: packet.nsp,
      id: packet.id === undefined ? null : packet.id,
      data: plain(packet.data),
      attachments: packet.attachments === undefined ? null : packet.attachments,
    });
  });
  let error = null;
  for (const part of parts) {
    try {
      decoder.add(typeof part === "string" ? part : revive(part));
    } catch (err) {
      error = String(err.message || err);
      break;
    }
  }
  return { packets, error };
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let result;
  try {
    const request = JSON.parse(line);
    if (request.op === "encode") {
      result = { parts: plain(encode(request.v, request.packet)) };
    } else {
      result = decode(request.v, request.parts);
    }
  } catch (err) {
    result = { fatal: String(err && err.stack ? err.stack : err) };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
});
