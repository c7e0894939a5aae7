'use strict';
/**
 * A socket.io-client 4.8.1 that connects and stays: `node hold_client.js URL`. It connects
 * over WebSocket, prints `CONNECTED <sid>` and then only answers the server's pings, until it
 * is killed (a client gone without a word: a crashed process, a laptop shut).
 */
const path = require('path');
const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node', 'node_modules');
const { io } = require(path.join(NODE_MODULES, 'socket.io-client'));

const socket = io(process.argv[2], { transports: ['websocket'], reconnection: false });
socket.on('connect', () => console.log(`CONNECTED ${socket.io.engine.id}`));
socket.on('connect_error', (err) => { console.log(`FAILED ${err.message}`); process.exit(1); });
