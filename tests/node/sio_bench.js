// Times socket.io-parser 4.2.7's Decoder on the packets in a JSON-lines file.
//
// Usage: node sio_bench.js INPUT.jsonl ROUNDS
// Each input line is one Socket.IO packet: a JSON array of parts, the first the text packet,
// the others {"$bytes": "<base64>"} attachments. Prints {"packets": n, "seconds": best}.
"use strict";

const fs = require("fs");
const { Decoder } = require("socket.io-parser");

const [input, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 5);
const messages = fs
  .readFileSync(input, "utf8")
  .split("\n")
  .filter((line) => line)
  .map((line) =>
    JSON.parse(line).map((part) => (typeof part === "string" ? part : Buffer.from(part.$bytes, "base64"))),
  );

let best = Infinity;
let decoded = 0;
for (let round = 0; round < rounds; round++) {
  const decoder = new Decoder();
  let count = 0;
  decoder.on("decoded", () => {
    count++;
  });
  const start = process.hrtime.bigint();
  for (const parts of messages) {
    for (const part of parts) decoder.add(part);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (seconds < best) best = seconds;
  decoded = count;
}
process.stdout.write(JSON.stringify({ packets: decoded, seconds: best }) + "\n");
