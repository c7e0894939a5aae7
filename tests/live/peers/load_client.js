'use strict';
/**
 * Load generator: `node load_client.js URL CLIENTS SECONDS MODE [PACE_MS]`, MODE = paced|flood.
 * Opens CLIENTS socket.io-client 4.8.1 connections (WebSocket transport) to URL. Each client
 * loops for SECONDS: emitWithAck('echo', i) then a fire-and-forget 'count'; `paced` waits
 * PACE_MS (default 100) between rounds (latency at a moderate load), `flood` does not (throughput).
 * At the end each client asks 'total' (the server's count of its 'count' events) to check
 * nothing was lost. Prints one JSON line: clients, connected, acked, counted, lost,
 * throughput (acks/s), p50_ms/p90_ms/p99_ms of the ack round trip.
 */
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const { io } = require(path.join(NODE_MODULES, 'socket.io-client'));

const [url, clientsArg, secondsArg, mode = 'paced', paceArg = '100'] = process.argv.slice(2);
const pace = Number(paceArg);
const clients = Number(clientsArg || 100);
const seconds = Number(secondsArg || 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const latencies = [];
let acked = 0;
let sentCounts = 0;
let counted = 0;
let connected = 0;

async function one(index, stopAt) {
  const socket = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  connected += 1;
  let mine = 0;
  for (let i = 0; Date.now() < stopAt; i++) {
    const t0 = process.hrtime.bigint();
    await socket.timeout(10000).emitWithAck('echo', i);
    latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    acked += 1;
    socket.emit('count', i);
    mine += 1;
    if (mode === 'paced') await sleep(pace);
  }
  sentCounts += mine;
  const total = await socket.timeout(10000).emitWithAck('total');
  counted += total; // after the await: `counted += await ...` would race
  socket.close();
}

async function main() {
  const stopAt = Date.now() + seconds * 1000;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => one(i, stopAt)));
  const elapsed = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null);
  console.log(JSON.stringify({
    clients, connected, mode, seconds, acked, counted, sent_counts: sentCounts,
    lost: sentCounts - counted, throughput: acked / seconds, elapsed,
    p50_ms: q(0.5), p90_ms: q(0.9), p99_ms: q(0.99),
  }));
  process.exit(0);
}
main().catch((e) => { console.error(e && e.message ? e.message : e); process.exit(2); });
