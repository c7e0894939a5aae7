/* The packet table (sampled by the server, paged and filtered here) and the session view
 * (one session's timeline: capture chunks, the Engine.IO packets in them and the Socket.IO
 * packets inside those). */
'use strict';
(function (IOP) {
  const { el, fill, wire, td } = IOP;
  const KEEP = 5000; // rows kept in the page (the server keeps its own, bounded, table)
  const PAGE = 40;
  const SHORT = { websocket: 'ws', 'polling-xhr': 'xhr', 'polling-jsonp': 'jsonp', webtransport: 'wt' };
  const CONTROL = new Set(['open', 'ping', 'pong', 'noop', 'upgrade', 'close', 'transport-close', 'ws-control', 'ws-close', 'ws-ping', 'ws-pong', 'ws-end', 'http-unanswered']);
  const CONTROL_FRAMES = { 'ws-close': 'WebSocket close frame', 'ws-ping': 'WebSocket ping frame', 'ws-pong': 'WebSocket pong frame' };
  const table = { rows: [], lastSeq: 0, paused: false, page: 0, loading: false, sid: null, sessionFetched: 0, types: new Set() };

  function arrow(dir) {
    if (dir === 'c2s') return el('span', { class: 'dir c2s', title: 'client → server', text: '→' });
    if (dir === 's2c') return el('span', { class: 'dir s2c', title: 'server → client', text: '←' });
    return el('span', { class: 'dir', text: '·' });
  }

  function transportChip(kind) {
    if (!kind) return '';
    const known = SHORT[kind] ? kind : 'unknown';
    return el('span', { class: 'chip t-' + known, text: SHORT[kind] || IOP.visible(kind) });
  }

  IOP.sessionLink = function (sid) {
    return el('a', {
      class: 'sid mono', title: IOP.visible(sid), tabindex: '0',
      onclick: (event) => { event.preventDefault(); IOP.openSession(sid); },
    }, wire(String(sid).slice(0, 8)));
  };

  /** What a row says, as nodes: event name and arguments, ack and its event, error rule. */
  function describe(row) {
    const parts = [];
    const nsp = row.nsp && row.nsp !== '/' ? row.nsp + ' ' : '';
    if (row.type === 'EVENT') {
      parts.push(wire(nsp), el('b', null, wire(row.event)), ' ', wire(row.preview || ''));
      if (row.id !== undefined) parts.push(el('span', { class: 'muted', text: ' #' + row.id }));
    } else if (row.type === 'ACK') {
      parts.push(wire(nsp), 'ack' + (row.id !== undefined ? ' #' + row.id : ''));
      if (row.answers) {
        parts.push(' for ', el('b', null, wire(row.answers.event)), el('span', { class: 'muted', text: ' (' + IOP.ms(row.answers.rtt) + ')' }));
      }
      parts.push(' ', wire(row.preview || ''));
    } else if (row.rule) {
      parts.push(el('span', { class: 'type-error' }, wire(row.rule)), ' ', wire(row.reason || ''), row.preview ? ' ' : '', wire(row.preview || ''));
    } else {
      if (row.nsp) parts.push(wire(nsp));
      if (row.event) parts.push(el('b', null, wire(row.event)), ' ');
      parts.push(wire(row.preview || row.reason || ''));
    }
    if (row.attachments) parts.push(el('span', { class: 'muted', text: ' +' + row.attachments + ' binary' }));
    return parts;
  }

  function typeClass(row) {
    if (row.rule || row.type === 'error' || row.type === 'CONNECT_ERROR') return 'type-error';
    if (CONTROL.has(row.type)) return 'type-control';
    return '';
  }

  function matches(row, f) {
    if (f.sid && !(row.sid || '').startsWith(f.sid)) return false;
    if (f.nsp && (row.nsp || '') !== f.nsp) return false;
    if (f.event && !(row.event || '').toLowerCase().includes(f.event)) return false;
    if (f.dir && row.dir !== f.dir) return false;
    if (f.type && row.type !== f.type) return false;
    return true;
  }

  function filters() {
    const value = (id) => document.getElementById(id).value.trim();
    return { sid: value('f-sid'), nsp: value('f-nsp'), event: value('f-event').toLowerCase(), dir: value('f-dir'), type: value('f-type') };
  }

  function addRows(rows) {
    if (!rows || !rows.length) return;
    for (const row of rows) {
      if (row.seq > table.lastSeq || IOP.data.isStatic) table.rows.push(row);
      table.types.add(row.type);
    }
    table.lastSeq = Math.max(table.lastSeq, rows[rows.length - 1].seq);
    if (table.rows.length > KEEP) table.rows.splice(0, table.rows.length - KEEP);
    const select = document.getElementById('f-type');
    if (select.options.length - 1 !== table.types.size) {
      const chosen = select.value;
      fill(select, el('option', { value: '', text: 'every type' }), ...[...table.types].sort().map((t) => el('option', { value: t, text: IOP.visible(t) })));
      select.value = chosen;
    }
  }

  function renderTable(snapshot) {
    const f = filters();
    const shown = table.rows.filter((row) => matches(row, f));
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    table.page = Math.min(table.page, pages - 1);
    const end = shown.length - table.page * PAGE;
    const slice = shown.slice(Math.max(0, end - PAGE), end).reverse(); // newest first
    const rows = slice.map((row) => el('tr', { class: row.sid && row.sid === table.sid ? 'selected' : '' },
      td(IOP.time(row.ts), 'mono muted'),
      td(arrow(row.dir)),
      td(row.sid ? IOP.sessionLink(row.sid) : '', 'mono'),
      td(transportChip(row.transport)),
      td(el('span', { class: typeClass(row) }, wire(row.type)), 'mono'),
      td(el('span', null, ...describe(row)), 'wire'),
      td(IOP.bytes(row.size), 'r muted')));
    const packets = IOP.table(
      [{ label: 'time' }, { label: '' }, { label: 'session' }, { label: 'via' }, { label: 'type' }, { label: 'what' }, { label: 'size', right: true }],
      rows, { empty: table.rows.length ? 'no packet matches the filters' : 'no packet yet' });
    packets.classList.add('packets');
    fill(document.getElementById('packets-table'), packets);
    document.getElementById('page-info').textContent = 'page ' + (table.page + 1) + ' of ' + pages + ' · ' + IOP.int(shown.length) + ' shown of ' + IOP.int(table.rows.length) + ' kept';
    document.getElementById('page-newer').disabled = table.page === 0;
    document.getElementById('page-older').disabled = table.page >= pages - 1;
    const p = snapshot && snapshot.packets;
    document.getElementById('packets-hint').textContent = table.paused ? 'paused' : 'newest first';
    if (p) {
      const info = IOP.int(p.sampled_out) + ' not sampled (at most ' + IOP.int(p.rows_per_second) + ' per second enter the table)';
      document.getElementById('packets-info').textContent = p.sampled_out ? info : '';
    }
  }

  IOP.views.packets = function (snapshot) {
    const p = snapshot.packets;
    renderTable(snapshot);
    if (!table.paused && !table.loading && (IOP.data.isStatic ? table.rows.length === 0 && !table.loaded : p.last_seq > table.lastSeq)) {
      table.loading = true;
      IOP.data.packets(table.lastSeq).then((answer) => {
        table.loaded = true;
        if (answer) addRows(answer.rows);
        table.loading = false;
        renderTable(snapshot);
      }, () => { table.loading = false; });
    }
    if (table.sid && !IOP.data.isStatic && !snapshot.meta.finished && Date.now() - table.sessionFetched > 1000) {
      loadSession(table.sid);
    }
  };

  // -- the session view --------------------------------------------------------------------

  function milestone(label, value) {
    return el('span', null, label + ' ', el('b', null, value));
  }

  function renderSession(view) {
    const box = document.getElementById('session-view');
    if (!view) { fill(box, el('div', { class: 'empty', text: 'this session is no longer kept' })); return; }
    const s = view.session;
    document.getElementById('session-hint').textContent = '';
    fill(document.getElementById('session-hint'), wire(s.sid));
    const ms = [];
    if (s.transport) ms.push(milestone('transport', transportChip(s.transport)));
    if (s.client) ms.push(milestone('client', wire(s.client)));
    if (s.eio) ms.push(milestone('Engine.IO', String(s.eio)));
    if (s.handshake_ts) ms.push(milestone('handshake', IOP.time(s.handshake_ts)));
    if (s.probe_ts) ms.push(milestone('upgrade tried', IOP.time(s.probe_ts)));
    if (s.upgrade_ts) ms.push(milestone('upgraded', IOP.time(s.upgrade_ts) + (s.handshake_ts ? ' (+' + IOP.ms(s.upgrade_ts - s.handshake_ts) + ')' : '')));
    if (s.end) ms.push(milestone(IOP.visible(s.end), IOP.time(s.end_ts)));
    else if (s.first_ts) ms.push(milestone('open since', IOP.time(s.first_ts)));
    if (s.packets !== undefined) ms.push(milestone('records', IOP.int(s.packets)));
    const items = [el('div', { class: 'milestones' }, ...ms)];
    let group = null;
    let groupKey = null;
    let rows = view.rows || [];
    if (!rows.length) {
      // Only the most recently opened sessions keep a timeline: show its sampled packets.
      rows = table.rows.filter((row) => row.sid === s.sid);
      if (rows.length) items.push(el('div', { class: 'tl-head', text: 'this session\'s timeline is not kept: its sampled packets' }));
    }
    rows.forEach((row, index) => {
      if (view.skipped && index === 64) items.push(el('div', { class: 'tl-head', text: '… ' + IOP.int(view.skipped) + ' records not kept …' }));
      const chunk = row.chunk || {};
      const key = chunk.seq !== undefined ? chunk.seq + '/' + chunk.kind : 'row' + index;
      if (key !== groupKey) {
        groupKey = key;
        const what = chunk.kind ? chunkLabel(chunk) : row.layer;
        group = el('div', { class: 'tl-chunk ' + (row.dir || '') },
          el('div', { class: 'tl-head' }, arrow(row.dir), ' ', IOP.time(row.ts), ' · ', transportChip(row.transport), ' ', what));
        items.push(group);
      }
      const sio = row.layer === 'socketio';
      const label = sio ? (row.eio ? 'message ▸ ' : '') + row.type : row.type;
      group.append(el('div', { class: 'tl-packet' + (sio ? ' sio' : '') },
        el('span', { class: 'mono muted', text: IOP.time(row.ts).slice(3) }),
        el('span', { class: 'mono ' + typeClass(row), text: IOP.visible(label) }),
        el('span', { class: 'what wire' }, ...describe(row))));
    });
    if (!rows.length) items.push(el('div', { class: 'empty', text: 'no packet of this session is kept' }));
    fill(box, ...items);
  }

  function chunkLabel(chunk) {
    if (chunk.kind === 'http-request') return 'HTTP ' + (chunk.method || 'request') + ' body';
    if (chunk.kind === 'http-response') return 'HTTP ' + (chunk.status || '') + ' response body';
    if (chunk.kind === 'ws-text') return 'WebSocket text message';
    if (chunk.kind === 'ws-binary') return 'WebSocket binary message';
    if (chunk.kind === 'ws-control') return CONTROL_FRAMES[chunk.type] || 'WebSocket control frame';
    return IOP.visible(chunk.kind);
  }

  function loadSession(sid) {
    table.sessionFetched = Date.now();
    IOP.data.session(sid).then((view) => { if (table.sid === sid) renderSession(view); }, () => {});
  }

  IOP.openSession = function (sid) {
    table.sid = sid;
    if (location.hash !== '#packets') location.hash = '#packets';
    loadSession(sid);
    IOP.redraw();
  };

  IOP.setupPackets = function () {
    const pause = document.getElementById('packets-pause');
    pause.addEventListener('click', () => {
      table.paused = !table.paused;
      pause.setAttribute('aria-pressed', String(table.paused));
      pause.textContent = table.paused ? 'Resume table' : 'Pause table';
      IOP.redraw();
    });
    for (const id of ['f-sid', 'f-nsp', 'f-event', 'f-dir', 'f-type']) {
      document.getElementById(id).addEventListener('input', () => { table.page = 0; renderTable(IOP.current); });
    }
    document.getElementById('page-newer').addEventListener('click', () => { table.page = Math.max(0, table.page - 1); renderTable(IOP.current); });
    document.getElementById('page-older').addEventListener('click', () => { table.page += 1; renderTable(IOP.current); });
  };
})(window.IOP);
