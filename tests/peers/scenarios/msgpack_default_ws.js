'use strict';
/**
 * msgpack_default_ws: the msgpack scenarios' exchange with the default parser, websocket only
 * (the reference the msgpack captures are compared with; see msgpack_common.js).
 */
const { exchange } = require('./msgpack_common');

exports.run = async ({ port, log }) =>
  exchange({ port, log, label: 'c1', transports: ['websocket'], parser: undefined });
