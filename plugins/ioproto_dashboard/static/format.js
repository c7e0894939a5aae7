/* Formatting and safe DOM building. Text from the wire only ever reaches the page through
 * textContent (el() and text()), after visible() has made control, invisible and bidi
 * characters visible as escapes - the same rule as ioproto.render.safe_text. */
'use strict';
window.IOP = window.IOP || {};
(function (IOP) {
  // The characters ioproto.render.safe_text escapes (keep the two lists equal).
  // With the u flag a surrogate pair is one code point: only lone surrogates match.
  const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/gu;

  function escapeChar(ch) {
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    if (ch === '\r') return '\\r';
    const code = ch.charCodeAt(0);
    if (code <= 0xff) return '\\x' + code.toString(16).padStart(2, '0');
    return '\\u' + code.toString(16).padStart(4, '0');
  }

  /** Wire text made safe to look at: control, invisible and bidi characters as escapes. */
  IOP.visible = function (value) {
    if (value === null || value === undefined) return '';
    return String(value).replace(UNSAFE, escapeChar);
  };

  /** An element; attrs are set as properties or attributes (never HTML), children are
   * nodes or strings (strings become text nodes). */
  IOP.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = value;
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
    }
    return node;
  };

  /** Wire text as a text node (escaped by visible()). */
  IOP.wire = function (value) {
    return document.createTextNode(IOP.visible(value));
  };

  /** Replace a container's children. */
  IOP.fill = function (container, ...children) {
    container.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
  };

  const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  IOP.int = function (n) {
    return n === null || n === undefined ? '-' : intFormat.format(n);
  };

  IOP.pct = function (n) {
    return n === null || n === undefined ? '-' : n.toFixed(1) + '%';
  };

  /** Seconds as ioproto's reports show them (ioproto.render.format_duration): "0.39 ms",
   * "29.1 ms", "567 ms", "1.25 s", "2 min 05 s"; "-" for none. */
  IOP.ms = function (seconds) {
    if (seconds === null || seconds === undefined) return '-';
    if (seconds < 0) return '-' + IOP.ms(-seconds);
    const ms = seconds * 1000;
    if (ms < 9.995) return ms.toFixed(2) + ' ms';
    if (ms < 99.95) return ms.toFixed(1) + ' ms';
    if (ms < 999.5) return ms.toFixed(0) + ' ms';
    if (seconds < 9.995) return seconds.toFixed(2) + ' s';
    if (seconds < 59.95) return seconds.toFixed(1) + ' s';
    const whole = Math.round(seconds);
    if (whole < 3600) return Math.floor(whole / 60) + ' min ' + pad(whole % 60) + ' s';
    return Math.floor(whole / 3600) + ' h ' + pad(Math.floor((whole % 3600) / 60)) + ' min';
  };

  /** Bytes as ioproto's reports show them: "12 B", "3.4 kB", "5.6 MB". */
  IOP.bytes = function (size) {
    if (size === null || size === undefined) return '-';
    if (size < 1000) return Math.round(size) + ' B';
    if (size < 1000000) return (size / 1000).toFixed(1) + ' kB';
    if (size < 1e9) return (size / 1000000).toFixed(1) + ' MB';
    return (size / 1e9).toFixed(2) + ' GB';
  };

  /** A rate or an axis value: whole numbers as such, small ones with 2 significant digits. */
  IOP.rate = function (perSecond) {
    if (perSecond === null || perSecond === undefined) return '-';
    if (perSecond >= 100 || Number.isInteger(perSecond)) return intFormat.format(perSecond);
    return String(Number(perSecond.toPrecision(2)));
  };

  /** A bin edge in seconds with 2 significant digits: "0.13 ms", "24 ms", "1.3 s". */
  IOP.shortMs = function (seconds) {
    if (seconds === null || seconds === undefined) return '-';
    if (seconds === 0) return '0';
    if (seconds < 1) return String(Number((seconds * 1000).toPrecision(2))) + ' ms';
    return String(Number(seconds.toPrecision(2))) + ' s';
  };

  const pad = (n, w) => String(n).padStart(w || 2, '0');
  /** A capture time (seconds since the epoch) as local HH:MM:SS.mmm. */
  IOP.time = function (ts) {
    if (ts === null || ts === undefined) return '-';
    const d = new Date(ts * 1000);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
  };

  IOP.date = function (ts) {
    if (ts === null || ts === undefined) return '';
    const d = new Date(ts * 1000);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate());
  };

  IOP.duration = function (seconds) {
    if (seconds === null || seconds === undefined) return '-';
    if (seconds < 60) return IOP.ms(seconds);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.floor(seconds % 60);
    return h ? h + ' h ' + pad(m) + ' min' : m + ' min ' + pad(s) + ' s';
  };

  /** "/chat message" - an event with its namespace unless it is the main one. */
  IOP.eventLabel = function (nsp, event) {
    return nsp && nsp !== '/' ? nsp + ' ' + event : String(event);
  };

  /** A value of a nested object by a dotted path ("latency.ack.p50"). */
  IOP.path = function (object, path) {
    return path.split('.').reduce((value, key) => (value === null || value === undefined ? undefined : value[key]), object);
  };
})(window.IOP);
