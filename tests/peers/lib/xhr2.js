'use strict';
/**
 * A minimal XMLHttpRequest level 2 for Node (responseType "arraybuffer", binary bodies), swapped
 * in for the xmlhttprequest-ssl module that engine.io-client 3.5 uses under Node. With it the
 * socket.io-client 2.5 polling transport behaves as in a browser: no `b64=1`, and batches that
 * hold binary packets use the EIO 3 XHR2 framing (application/octet-stream) in both directions.
 * Call `install()` before socket.io-client-v2 is first required.
 */
const http = require('http');
const path = require('path');
const { NODE_MODULES } = require('./common');

class XHR2 {
  constructor() {
    this.readyState = 0;
    this.responseType = '';
    this.status = 0;
    this.response = null;
    this.responseText = '';
    this.withCredentials = false;
    this.onreadystatechange = null;
    this._headers = {};
    this._res = null;
    this._req = null;
  }

  open(method, url) {
    this._method = method;
    this._url = url;
    this._set(1);
  }

  setRequestHeader(name, value) {
    this._headers[name] = value;
  }

  setDisableHeaderCheck() {}

  getResponseHeader(name) {
    if (!this._res) return null;
    const v = this._res.headers[name.toLowerCase()];
    return v === undefined ? null : v;
  }

  send(data) {
    const u = new URL(this._url);
    let body = null;
    if (data !== null && data !== undefined) body = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const headers = { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) ioproto-xhr2-shim', ...this._headers };
    if (body) headers['Content-Length'] = body.length;
    this._req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: this._method, headers, agent: false },
      (res) => {
        this._res = res;
        this.status = res.statusCode;
        this._set(2);
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          if (this.responseType === 'arraybuffer') {
            this.response = buf;
          } else {
            this.responseText = buf.toString('utf8');
            this.response = this.responseText;
          }
          this._set(4);
        });
      },
    );
    this._req.on('error', () => {
      this.status = 0;
      this._set(4);
    });
    if (body) this._req.write(body);
    this._req.end();
  }

  abort() {
    if (this._req) this._req.destroy();
  }

  _set(state) {
    this.readyState = state;
    if (this.onreadystatechange) this.onreadystatechange();
  }
}

function install() {
  const file = path.join(
    NODE_MODULES, 'socket.io-client-v2', 'node_modules', 'engine.io-client', 'lib', 'transports', 'xmlhttprequest.js',
  );
  require(file);
  require.cache[file].exports = XHR2;
}

module.exports = { XHR2, install };
