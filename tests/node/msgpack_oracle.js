// Differential oracle for the msgpack parser: socket.io-msgpack-parser 3.0.2 (notepack.io 2.2)
// behind a JSON-lines pipe. One JSON object per line on stdin, one per line on stdout.
//
// Values travel with tags for what JSON cannot say:
//   {"$bytes": b64}        a Node Buffer (msgpack bin)
//   {"$arraybuffer": b64}  an ArrayBuffer (notepack: ext 8/16/32 type 0)
//   {"$uint8": b64}        a Uint8Array that is not a Buffer (also ext type 0)
//   {"$date": ms}          a Date (notepack: fixext 8 type 0)
//   {"$undefined": true}   undefined (notepack: fixext 1 type 0, D4 00 00)
//
//   {"op": "encode", "packet": {...}}  -> {"hex": "<msgpack bytes>"}
//   {"op": "decode", "hex": "..."}     -> {"packet": <decoded, Buffers/ArrayBuffers as $bytes,
//                                          Dates as their toJSON() string>, "error": null}
//                                         or {"packet": null, "error": "invalid payload"}
"use strict";

const readline = require("readline");
const parser = require("socket.io-msgpack-parser");

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const key = keys[0];
      if (key === "$bytes") return Buffer.from(value.$bytes, "base64");
      if (key === "$arraybuffer") {
        const b = Buffer.from(value.$arraybuffer, "base64");
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
      }
      if (key === "$uint8") return new Uint8Array(Buffer.from(value.$uint8, "base64"));
      if (key === "$date") return new Date(value.$date);
      if (key === "$undefined") return undefined;
    }
    const out = {};
    for (const k of keys) out[k] = revive(value[k]);
    return out;
  }
  return value;
}

function plain(value) {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("base64") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("base64") };
  if (value instanceof Date) return value.toJSON();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : plain(v)));
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return value;
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    if (request.op === "encode") {
      const [encoded] = new parser.Encoder().encode(revive(request.packet));
      answer = { hex: Buffer.from(encoded).toString("hex") };
    } else if (request.op === "decode") {
      const decoder = new parser.Decoder();
      let packet = null;
      decoder.on("decoded", (p) => {
        packet = p;
      });
      try {
        decoder.add(Buffer.from(request.hex, "hex"));
        answer = { packet: plain(packet), error: null };
      } catch (err) {
        answer = { packet: null, error: String(err.message || err) };
      }
    } else {
      answer = { fatal: `unknown op ${request.op}` };
    }
  } catch (err) {
    answer = { fatal: String(err && err.stack ? err.stack : err) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
