'use strict';
/**
 * v2_polling: socket.io 2.5 over XHR polling only (EIO 3 length-prefixed payloads). The client
 * uses an XHR2-capable XMLHttpRequest (lib/xhr2.js), as a browser would, so batches carrying
 * binary packets use the XHR2 framing (Content-Type application/octet-stream) both ways.
 * pingInterval 300 ms so client pings ("2") and server pongs ("3") show up.
 */
require('../lib/xhr2').install();
const { runV2 } = require('./v2_common');

exports.run = ({ port, log }) =>
  runV2({ port, log, label: 'c1', transports: ['polling'], serverOpts: { pingInterval: 300, pingTimeout: 1000 }, waitPings: 2 });
