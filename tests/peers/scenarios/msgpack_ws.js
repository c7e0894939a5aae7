'use strict';
/** msgpack_ws: socket.io-msgpack-parser 3.0.2 on both sides, websocket only (see msgpack_common.js). */
const { req } = require('../lib/common');
const { exchange } = require('./msgpack_common');

exports.run = async ({ port, log }) =>
  exchange({ port, log, label: 'c1', transports: ['websocket'], parser: req('socket.io-msgpack-parser') });
