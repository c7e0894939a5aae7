'use strict';
/**
 * Client half of the large-capture load: `clients` socket.io-client 4 clients (every 5th one
 * polling-only, the others websocket-only) each emit `events` events with acks, at most
 * `window` in flight; every 10th event is a binary "upload" of `binary` bytes, the others are
 * "msg" with a `payload`-character text. Options come as key=value arguments.
 */
const { Manager } = require('../lib/v4');

const text = (n, len) => {
  const base = `event ${n} lorem ipsum dolor sit amet, consectetur adipiscing elit ${n * 7919 % 10007} `;
  return base.repeat(Math.ceil(len / base.length)).slice(0, len);
};

async function client(port, i, o) {
  const mgr = new Manager(`http://127.0.0.1:${port}`, {
    transports: i % 5 === 4 ? ['polling'] : ['websocket'],
    reconnection: false,
    query: { client: 'c' + i },
  });
  const s = mgr.socket('/');
  s.on('check', (n, ack) => ack({ n, fine: true }));
  s.on('notice', () => {});
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  const blob = Buffer.alloc(o.binary, i & 0xff).map((b, k) => (b + k) & 0xff);
  let next = 0;
  let inflight = 0;
  let done = 0;
  await new Promise((resolve) => {
    const pump = () => {
      while (inflight < o.window && next < o.events) {
        const n = next++;
        inflight++;
        const onAck = () => {
          inflight--;
          if (++done === o.events) resolve();
          else pump();
        };
        if (n % 10 === 9) s.emit('upload', { n, name: `blob-${i}-${n}.bin` }, blob, onAck);
        else s.emit('msg', { n, from: 'c' + i, text: text(n, o.payload) }, onAck);
      }
    };
    pump();
  });
  s.disconnect();
}

exports.run = async ({ port, opts }) => {
  const o = {
    clients: Number(opts.clients || 50),
    events: Number(opts.events || 1000),
    window: Number(opts.window || 16),
    payload: Number(opts.payload || 700),
    binary: Number(opts.binary || 2048),
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: o.clients }, (_, i) => client(port, i, o)));
  await new Promise((r) => setTimeout(r, 100));
  console.error(`load: ${o.clients} clients x ${o.events} events in ${Date.now() - started} ms`);
};
