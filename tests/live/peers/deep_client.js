'use strict';
/**
 * `node deep_client.js URL`: sends a real socket.io 4.8.1 server events nested deep.
 *
 * * `echo` with an argument nested 500 arrays deep, acked by the server with the same value;
 * * `count` with an argument nested 5000 arrays deep, written as raw text on the Engine.IO
 *   connection: socket.io-client's encoder overflows Node's stack from about 5000 levels
 *   (its hasBinary walk recurses), while the server's decoder reads 20,000 and more. Then
 *   `total`, acked with how many `count` events the server received.
 *
 * Prints `{"echo": <nesting of what came back>, "counted": <total>}`.
 */
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const { io } = require(path.join(NODE_MODULES, 'socket.io-client'));

const nested = (depth) => { let v = 1; for (let i = 0; i < depth; i++) v = [v]; return v; };
const depthOf = (v) => { let d = 0; while (Array.isArray(v)) { v = v[0]; d += 1; } return d; };

async function main() {
  const socket = io(process.argv[2], { transports: ['websocket'] });
  await new Promise((resolve) => socket.once('connect', resolve));
  const back = await socket.timeout(5000).emitWithAck('echo', nested(500));
  const deep = '['.repeat(5000) + '1' + ']'.repeat(5000);
  socket.io.engine.send('2["count",' + deep + ']');
  const counted = await socket.timeout(5000).emitWithAck('total');
  socket.close();
  console.log(JSON.stringify({ echo: depthOf(back[0]), counted }));
}
main().catch((err) => { console.error(err); process.exit(1); });
