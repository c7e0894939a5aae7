'use strict';
/** v2_ws: socket.io 2.5 over websocket only (EIO 3 binary frames carry a leading 0x04 byte). */
const { runV2 } = require('./v2_common');

exports.run = ({ port, log }) => runV2({ port, log, label: 'c1', transports: ['websocket'] });
