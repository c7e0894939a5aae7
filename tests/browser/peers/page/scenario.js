'use strict';
/*
 * What the test page does with the Socket.IO client it was served (socket.io-client 4.x or
 * 2.x: the same code, callbacks only). The query string chooses:
 *   (none)     the full scenario: polling then upgrade to WebSocket; acks both ways; a binary
 *              event and binary ack; the /admin namespace with auth, and a refused one; a
 *              polling-only session with a binary event (XHR2 bodies in 2.x, base64 in 4.x);
 *              a reconnection after the Engine.IO session drops; then disconnect.
 *   ?short=1   connect, one ack over polling and one over the WebSocket, then disconnect.
 *   ?stay=1    connect, upgrade, one ack, and stay connected (for the crash and close tests;
 *              the socket is window.staying, for a test to disconnect it). With
 *              &polling=1 the socket polls only (no upgrade), its long poll waiting.
 * Progress goes to document.title: "done <log>" at the end, "error <message>" on failure,
 * "ready" for ?stay=1.
 */
(function () {
  const params = new URLSearchParams(location.search);
  // socket.io-client 2.x exports its protocol (4); 4.x exports none.
  const v2 = typeof io.protocol === 'number' && io.protocol < 5;
  const base = location.origin;
  const log = [];
  const fast = { reconnectionDelay: 100, reconnectionDelayMax: 200, timeout: 5000 };

  const once = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve));
  const emitAck = (socket, ...args) => new Promise((resolve) => {
    socket.emit(...args, (...reply) => resolve(reply.length > 1 ? reply : reply[0]));
  });
  const bytes = (data) => Array.from(new Uint8Array(data)).join(',');
  const upgraded = async (socket) => {
    const engine = socket.io.engine;
    if (engine.transport.name !== 'websocket') await once(engine, 'upgrade');
  };
  const admin = (token, extra) => {
    const auth = v2 ? { query: { token } } : { auth: { token } };
    return io(base + '/admin', Object.assign({}, fast, auth, extra || {}));
  };
  const refusal = (socket) => once(socket, v2 ? 'error' : 'connect_error');

  async function full() {
    const socket = io(base, Object.assign({ transports: ['polling', 'websocket'] }, fast));
    await once(socket, 'connect');
    log.push('connect:' + socket.io.engine.transport.name);
    log.push(JSON.stringify(await emitAck(socket, 'echo', 'over polling')));
    await upgraded(socket);
    log.push(JSON.stringify(await emitAck(socket, 'echo', 'hello', { n: 1 })));
    log.push('binary:' + bytes(await emitAck(socket, 'binary', new Uint8Array([1, 2, 3, 250]).buffer)));
    socket.once('question', (question, ack) => ack(42));
    const answered = once(socket, 'answer-received');
    socket.emit('ask');
    log.push('answer:' + (await answered));

    const adm = admin('s3cret');
    await once(adm, 'connect');
    log.push('stats:' + JSON.stringify(await emitAck(adm, 'stats')));
    const refused = admin('wrong', { forceNew: true, transports: ['websocket'], reconnection: false });
    log.push('refused:' + JSON.stringify(await refusal(refused)));
    refused.close();

    const poller = io(base, Object.assign({ forceNew: true, transports: ['polling'] }, fast));
    await once(poller, 'connect');
    log.push('polling-binary:' + bytes(await emitAck(poller, 'binary', new Uint8Array([9, 8, 7]).buffer)));
    poller.close();

    // A dropped Engine.IO session, closed by the client: the Manager reconnects. (The
    // server-side drop of the live peers does not reach a browser from python-engineio,
    // which sends a close packet but keeps the WebSocket open.)
    // The Manager reconnects /admin too: wait for its CONNECT reply as well, or adm.close()
    // below may close the namespace while that reply is still on its way to the page.
    const back = once(socket, 'connect');
    const adminBack = once(adm, 'connect');
    socket.io.engine.close();
    await back;
    await adminBack;
    await upgraded(socket);
    log.push('reconnected:' + JSON.stringify(await emitAck(socket, 'echo', 'again')));
    adm.close();
    socket.close();
  }

  async function short() {
    const socket = io(base, Object.assign({ transports: ['polling', 'websocket'] }, fast));
    await once(socket, 'connect');
    log.push(JSON.stringify(await emitAck(socket, 'echo', 'first')));
    await upgraded(socket);
    log.push(JSON.stringify(await emitAck(socket, 'echo', 'second')));
    socket.close();
  }

  async function stay() {
    const polling = Boolean(params.get('polling'));
    const transports = polling ? ['polling'] : ['polling', 'websocket'];
    const socket = io(base, Object.assign({ transports }, fast));
    await once(socket, 'connect');
    if (!polling) await upgraded(socket);
    log.push(JSON.stringify(await emitAck(socket, 'echo', 'staying')));
    window.staying = socket;
    document.title = 'ready ' + log.join(' | ');
  }

  const run = params.get('stay') ? stay : params.get('short') ? short : full;
  run().then(
    () => { if (!params.get('stay')) document.title = 'done ' + log.join(' | '); },
    (error) => { document.title = 'error ' + (error && error.message ? error.message : error); },
  );
})();
