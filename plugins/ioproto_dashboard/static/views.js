/* The views drawn from a snapshot (docs/dashboard.md says what each shows). Numbers that
 * come from the stats summary carry data-stat="path" and data-value, so tests can compare
 * them with `ioproto stats --format json`. */
'use strict';
(function (IOP) {
  const { el, fill, wire } = IOP;
  const TRANSPORTS = ['websocket', 'polling-xhr', 'polling-jsonp', 'webtransport', 'unknown'];
  const state = { ackEvent: null, sizeEvent: null, order: 'by_count', nsp: '', dir: '' };
  IOP.viewState = state;

  function statValue(text, stat, value, cls) {
    return el('span', { class: cls, dataset: stat ? { stat, value: JSON.stringify(value === undefined ? null : value) } : undefined, text });
  }

  function kpi(label, text, options) {
    options = options || {};
    return el('div', { class: 'kpi' },
      el('div', { class: 'label', text: label }),
      el('div', { class: 'value' + (options.cls ? ' ' + options.cls : '') }, statValue(text, options.stat, options.value)),
      options.sub ? el('div', { class: 'sub' }, options.sub) : null);
  }

  function transportColour(name) {
    return TRANSPORTS.includes(name) ? name : 'unknown';
  }

  /** Horizontal share bars of [{name, count, pct}] (the stats figures' share lists), as long
   * as their count against the biggest, or with options.ofAll as their pct (a share of a
   * whole that the list need not add up to, so that two lists of one whole compare). */
  function shareBars(items, stat, options) {
    options = options || {};
    if (!items || !items.length) return el('div', { class: 'empty', text: options.empty || 'none seen yet' });
    const biggest = Math.max(...items.map((item) => item.count), 1);
    const grid = el('div', { class: 'bars' });
    items.slice(0, options.top || 12).forEach((item, index) => {
      const bar = el('div', { class: 'fill' });
      const share = options.ofAll ? Math.min(100, item.pct) : (100 * item.count) / biggest;
      bar.style.width = share.toFixed(1) + '%';
      if (options.colour) bar.style.background = IOP.colour(options.colour(item.name));
      const at = stat ? stat + '.' + index : null;
      grid.append(
        el('div', { class: 'name wire', title: IOP.visible(item.name) }, wire(item.name)),
        el('div', { class: 'track' }, bar),
        el('div', { class: 'num' },
          statValue(IOP.int(item.count), at && at + '.count', item.count, 'strong'),
          item.pct !== undefined ? el('span', null, ' (', statValue(IOP.pct(item.pct), at && at + '.pct', item.pct), ')') : ''));
    });
    return grid;
  }
  IOP.shareBars = shareBars;

  function countsToShares(counts) {
    const total = Object.values(counts || {}).reduce((a, b) => a + b, 0);
    return Object.entries(counts || {})
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([name, count]) => ({ name, count, pct: total ? Math.round((1000 * count) / total) / 10 : 0 }));
  }

  function table(headers, rows, options) {
    options = options || {};
    if (!rows.length) return el('div', { class: 'empty', text: options.empty || 'nothing yet' });
    const head = el('tr', null, ...headers.map((h) => el('th', { class: h.right ? 'r' : '', text: h.label })));
    const body = el('tbody', null, ...rows);
    return el('table', { class: 'data' }, el('thead', null, head), body);
  }
  IOP.table = table;

  function td(content, cls) {
    const cell = el('td', { class: cls || '' });
    if (content instanceof Node) cell.append(content); else cell.textContent = content === undefined || content === null ? '' : String(content);
    if (cls && cls.includes('wire')) cell.title = cell.textContent; // the whole text, as text
    return cell;
  }
  IOP.td = td;

  function seriesData(series, names, pick) {
    return [series.t, ...names.map((name) => pick(series, name))];
  }

  // -- header ------------------------------------------------------------------------------

  IOP.renderHeader = function (snapshot) {
    const meta = snapshot.meta;
    const badge = document.getElementById('mode');
    let text = 'file';
    let cls = 'badge';
    if (meta.mode === 'live') { text = meta.finished ? 'ended' : 'live'; cls += meta.finished ? ' done' : ' live'; }
    else if (meta.finished) { text = 'finished'; cls += ' done'; }
    else { text = meta.mode === 'replay' ? 'replay ' + meta.speed + '×' : 'reading'; cls += ' replay'; }
    if (IOP.data.isStatic) { text = 'report'; cls = 'badge done'; }
    badge.className = cls;
    badge.textContent = text;
    const range = document.getElementById('range');
    if (meta.first_ts === null || meta.first_ts === undefined) {
      fill(range, 'waiting for traffic…');
    } else {
      const span = (meta.last_ts || meta.first_ts) - meta.first_ts;
      fill(range,
        IOP.date(meta.first_ts) + ' ', el('b', { text: IOP.time(meta.first_ts) }), ' → ', el('b', { text: IOP.time(meta.last_ts) }),
        ' · ' + IOP.duration(span) + ' of traffic · ' + IOP.int(meta.records) + ' records',
        meta.inputs && meta.inputs.length ? ' · ' : '', meta.inputs && meta.inputs.length ? wire(meta.inputs.join(', ')) : '');
    }
    const errors = snapshot.summary.errors.total;
    const count = document.getElementById('error-count');
    count.hidden = !errors;
    count.textContent = IOP.int(errors);
  };

  // -- overview ----------------------------------------------------------------------------

  IOP.views = {};

  IOP.views.overview = function (snapshot) {
    const s = snapshot.summary;
    const lat = s.latency;
    fill(document.getElementById('overview-kpis'),
      kpi('Sessions', IOP.int(s.sessions.total), { stat: 'sessions.total', value: s.sessions.total, sub: IOP.int(s.sessions.with_handshake) + ' with handshake' }),
      kpi('Open now', IOP.int(snapshot.sessions.open), { sub: 'of ' + IOP.int(snapshot.sessions.tracked) + ' followed' }),
      kpi('Packets', IOP.int(s.totals.packets), { stat: 'totals.packets', value: s.totals.packets, sub: s.totals.packets_per_second ? IOP.rate(s.totals.packets_per_second) + ' per second' : '' }),
      kpi('Events', IOP.int(s.events.total), { stat: 'events.total', value: s.events.total, sub: IOP.bytes(s.events.bytes) + ' in events' }),
      kpi('Ack p50', IOP.ms(lat.ack.p50), { stat: 'latency.ack.p50', value: lat.ack.p50, sub: 'p99 ' + IOP.ms(lat.ack.p99) + ' · ' + IOP.int(lat.ack.count) + ' acks' }),
      kpi('Heartbeat p50', IOP.ms(lat.heartbeat.p50), { stat: 'latency.heartbeat.p50', value: lat.heartbeat.p50, sub: 'p99 ' + IOP.ms(lat.heartbeat.p99) }),
      kpi('Errors', IOP.int(s.errors.total), { stat: 'errors.total', value: s.errors.total, cls: s.errors.total ? 'error' : '' }));
    const series = snapshot.series;
    IOP.timeChart('chart-sessions', [{ label: 'open sessions', colour: 'sessions', fill: 0.12, width: 2 }],
      seriesData(series, ['sessions'], (x, n) => x.gauge[n]), { format: (v) => IOP.int(v), integer: true, empty: 'no session seen yet' });
    IOP.timeChart('chart-churn', [
      { label: 'connects/s', colour: 'connect' },
      { label: 'disconnects/s', colour: 'disconnect' },
      { label: 'errors/s', colour: 'error' },
    ], seriesData(series, ['connects', 'disconnects', 'errors'], (x, n) => x.rate[n]));
    IOP.timeChart('chart-packets', [
      { label: 'client → server', colour: 'c2s', fill: 0.08 },
      { label: 'server → client', colour: 's2c', fill: 0.08 },
    ], seriesData(series, ['packets_c2s', 'packets_s2c'], (x, n) => x.rate[n]));
    IOP.timeChart('chart-bytes', [
      { label: 'client → server', colour: 'c2s', fill: 0.08 },
      { label: 'server → client', colour: 's2c', fill: 0.08 },
    ], seriesData(series, ['bytes_c2s', 'bytes_s2c'], (x, n) => x.rate[n]), { format: (v) => IOP.bytes(v) + '/s' });
    sessionEnds(s.ends);
  };

  /** The colour of each way a transport closed (docs/dashboard.md, Colours); the rest, a
   * browser's or a server's word, or a transport-close not seen, say nothing of how: grey. */
  const CLOSED_BY = {
    'close frame from the client': 'c2s',
    'close frame from the server': 's2c',
    'no close frame (1006)': 'error',
    'poll cut off': 'polling-xhr',
  };

  /** Session ends as `ioproto stats` shows them: sessions by why they ended and, for
   * transport closed, how; every bar a share of all sessions. Under a session limit, how
   * many evicted sessions came back (continued, not counted again). */
  function sessionEnds(ends) {
    const again = ends.evicted_seen_again;
    const seenAgain = again ? el('div', { class: 'seen-again' },
      statValue(IOP.int(again.count), 'ends.evicted_seen_again.count', again.count, 'strong'),
      ' evicted sessions (', statValue(IOP.pct(again.pct), 'ends.evicted_seen_again.pct', again.pct),
      ' of all) were seen again later: their later records continue them, each counted once') : null;
    fill(document.getElementById('ends-by-reason'),
      shareBars(ends.by_reason, 'ends.by_reason', { ofAll: true, empty: 'no session seen yet' }), seenAgain);
    fill(document.getElementById('ends-transport-closed-by'),
      shareBars(ends.transport_closed_by, 'ends.transport_closed_by',
        { ofAll: true, colour: (name) => CLOSED_BY[name] || 'unknown', empty: 'no transport closed yet' }));
  }

  // -- transports --------------------------------------------------------------------------

  IOP.views.transports = function (snapshot) {
    const s = snapshot.summary;
    const up = s.upgrade;
    const open = snapshot.sessions.by_transport;
    fill(document.getElementById('transport-kpis'),
      kpi('Open on WebSocket', IOP.int(open.websocket), { sub: IOP.int(snapshot.sessions.open) + ' open in all' }),
      kpi('Open on polling', IOP.int((open['polling-xhr'] || 0) + (open['polling-jsonp'] || 0))),
      kpi('Upgraded', IOP.pct(up.upgraded_pct), { stat: 'upgrade.upgraded_pct', value: up.upgraded_pct, sub: IOP.int(up.upgraded) + ' of ' + IOP.int(up.started_on_polling) + ' started on polling' }),
      kpi('Time to upgrade p50', IOP.ms(up.time.p50), { stat: 'upgrade.time.p50', value: up.time.p50, sub: 'p90 ' + IOP.ms(up.time.p90) + ' · max ' + IOP.ms(up.time.max) }),
      kpi('WebSocket only', IOP.int(up.websocket_only), { stat: 'upgrade.websocket_only', value: up.websocket_only }));

    // share of open sessions over time, stacked to 100%
    const series = snapshot.series;
    // only the transports seen, so that the legend lists what is there
    const present = TRANSPORTS.filter((k) => series.gauge[k].some((v) => v > 0));
    const totals = series.t.map((_, i) => present.reduce((sum, k) => sum + (series.gauge[k][i] || 0), 0));
    const shares = present.map((k) => series.gauge[k].map((v, i) => (totals[i] ? (100 * (v || 0)) / totals[i] : null)));
    const stacked = [];
    let running = series.t.map(() => 0);
    for (const share of shares) {
      running = running.map((sum, i) => (share[i] === null ? null : (sum || 0) + share[i]));
      stacked.push(running);
    }
    const order = present.map((_, i) => i).reverse(); // widest band first, so narrower ones draw over it
    IOP.timeChart('chart-transport-share',
      order.map((i) => ({ label: present[i], colour: present[i], fill: 0.75, width: 1 })),
      [series.t, ...order.map((i) => stacked[i])],
      { format: (v) => Math.round(v) + '%', raw: order.map((i) => shares[i]), empty: 'no session seen yet' });

    // the upgrade funnel
    const base = Math.max(up.started_on_polling, 1);
    const steps = [
      ['started on polling', up.started_on_polling, '', 'upgrade.started_on_polling'],
      ['upgrade tried (probe)', up.probed, 'up', 'upgrade.probed'],
      ['upgraded to WebSocket', up.upgraded, 'up', 'upgrade.upgraded'],
      ['fell back (probe, no upgrade)', up.failed, 'fail', 'upgrade.failed'],
      ['stayed on polling', up.stayed_on_polling, '', 'upgrade.stayed_on_polling'],
      ['WebSocket from the start', up.websocket_only, 'ws', 'upgrade.websocket_only'],
    ];
    fill(document.getElementById('funnel'), ...steps.map(([label, value, cls, stat]) => {
      const bar = el('div', { class: 'fill ' + cls });
      bar.style.width = Math.min(100, (100 * value) / Math.max(base, up.websocket_only, 1)).toFixed(1) + '%';
      return el('div', { class: 'step' }, el('span', { text: label }), el('div', { class: 'track' }, bar),
        el('span', { class: 'num' }, statValue(IOP.int(value), stat, value)));
    }));

    // sessions and packets by transport
    const t = s.transport;
    const names = [];
    for (const group of ['sessions_first', 'sessions_final', 'packets']) for (const item of t[group]) if (!names.includes(item.name)) names.push(item.name);
    const cell = (group, name) => {
      const index = t[group].findIndex((item) => item.name === name);
      if (index < 0) return td('0', 'r');
      const item = t[group][index];
      return td(el('span', null, statValue(IOP.int(item.count), 'transport.' + group + '.' + index + '.count', item.count), el('span', { class: 'muted', text: ' ' + IOP.pct(item.pct) })), 'r');
    };
    fill(document.getElementById('transport-table'), table(
      [{ label: 'transport' }, { label: 'sessions at start', right: true }, { label: 'sessions at end', right: true }, { label: 'packets', right: true }],
      names.map((name) => el('tr', null, td(el('span', { class: 'chip t-' + transportColour(name) }, wire(name))), cell('sessions_first', name), cell('sessions_final', name), cell('packets', name)))));
    document.getElementById('upgrade-hint').textContent = up.time.count ? IOP.int(up.time.count) + ' upgrades' : '';
    IOP.histogram('chart-upgrade', snapshot.histograms.latency_edges, snapshot.histograms.upgrade, 'upgrade', IOP.shortMs, 'no upgrade seen yet');
  };

  // -- clients -----------------------------------------------------------------------------

  IOP.views.clients = function (snapshot) {
    const c = snapshot.summary.clients;
    fill(document.getElementById('client-kpis'),
      kpi('Sessions with a known client', IOP.int(c.sessions), { stat: 'clients.sessions', value: c.sessions }),
      kpi('Browsers and libraries', IOP.int(c.browser.length), { sub: 'distinct names' }),
      kpi('Operating systems', IOP.int(c.os.length)),
      kpi('Devices', IOP.int(c.device.length)));
    fill(document.getElementById('clients-browser'), shareBars(c.browser_version, 'clients.browser_version'));
    fill(document.getElementById('clients-os'), shareBars(c.os, 'clients.os'));
    fill(document.getElementById('clients-device'), shareBars(c.device, 'clients.device'));
    fill(document.getElementById('clients-kind'), shareBars(c.kind, 'clients.kind'));
    const eio = { 4: 'Engine.IO 4 (socket.io 3+)', 3: 'Engine.IO 3 (socket.io 2)', 2: 'Engine.IO 2 (socket.io 1)' };
    const sio = { 5: 'protocol 5 (socket.io 3+)', 4: 'protocol 4 (socket.io 2)' };
    const named = (counts, names) => countsToShares(counts).map((x) => Object.assign(x, { name: names[x.name] || 'revision ' + x.name }));
    fill(document.getElementById('clients-eio'), shareBars(named(snapshot.sessions.eio, eio), null));
    fill(document.getElementById('clients-sio'), shareBars(named(snapshot.sessions.sio, sio), null));
  };

  // -- latency -----------------------------------------------------------------------------

  function percentileLines(colour) {
    return [
      { label: 'p50', colour, width: 2 },
      { label: 'p90', colour, dash: [6, 4], width: 1.4 },
      { label: 'p99', colour, dash: [2, 3], width: 1.2 },
    ];
  }

  function percentileData(series, name) {
    const p = series.percentiles[name];
    const toMs = (values) => values.map((v) => (v === null ? null : v * 1000));
    return [series.t, toMs(p.p50), toMs(p.p90), toMs(p.p99)];
  }

  const msAxis = (v) => IOP.shortMs(v / 1000);

  IOP.views.latency = function (snapshot) {
    const lat = snapshot.summary.latency;
    fill(document.getElementById('latency-kpis'),
      kpi('Handshake p50', IOP.ms(lat.handshake.p50), { stat: 'latency.handshake.p50', value: lat.handshake.p50, sub: IOP.int(lat.handshake.count) + ' handshakes' }),
      kpi('Heartbeat p50', IOP.ms(lat.heartbeat.p50), { stat: 'latency.heartbeat.p50', value: lat.heartbeat.p50, sub: 'p90 ' + IOP.ms(lat.heartbeat.p90) + ' · p99 ' + IOP.ms(lat.heartbeat.p99) }),
      kpi('Ack p50', IOP.ms(lat.ack.p50), { stat: 'latency.ack.p50', value: lat.ack.p50, sub: 'p90 ' + IOP.ms(lat.ack.p90) + ' · p99 ' + IOP.ms(lat.ack.p99) }),
      kpi('Ack max', IOP.ms(lat.ack.max), { stat: 'latency.ack.max', value: lat.ack.max, sub: IOP.int(lat.ack.count) + ' acks' }),
      kpi('Unanswered acks', IOP.int(lat.unanswered_acks), { stat: 'latency.unanswered_acks', value: lat.unanswered_acks, cls: lat.unanswered_acks ? 'error' : '' }),
      kpi('Ping timeouts', IOP.int(lat.heartbeat_timeouts), { stat: 'latency.heartbeat_timeouts', value: lat.heartbeat_timeouts, cls: lat.heartbeat_timeouts ? 'error' : '' }));
    const series = snapshot.series;
    IOP.timeChart('chart-heartbeat-time', percentileLines('heartbeat'), percentileData(series, 'heartbeat'), { log: true, spanGaps: true, points: true, format: msAxis, empty: 'no heartbeat seen yet' });
    IOP.timeChart('chart-ack-time', percentileLines('ack'), percentileData(series, 'ack'), { log: true, spanGaps: true, points: true, format: msAxis, empty: 'no ack seen yet' });
    const hist = snapshot.histograms;
    IOP.histogram('chart-heartbeat-hist', hist.latency_edges, hist.heartbeat, 'heartbeat', IOP.shortMs, 'no heartbeat seen yet');
    let ackCounts = hist.ack;
    const hint = document.getElementById('ack-hist-hint');
    hint.textContent = 'distribution, every event';
    if (state.ackEvent) {
      const found = hist.ack_by_event.find((x) => x.nsp === state.ackEvent.nsp && x.event === state.ackEvent.event);
      if (found) {
        ackCounts = found.counts;
        hint.textContent = 'distribution of ' + IOP.visible(IOP.eventLabel(found.nsp, found.event));
      }
    }
    IOP.histogram('chart-ack-hist', hist.latency_edges, ackCounts, 'ack', IOP.shortMs, 'no ack seen yet');
    const rows = lat.ack_by_event.map((item, index) => {
      const selected = state.ackEvent && state.ackEvent.nsp === item.nsp && state.ackEvent.event === item.event;
      const stat = 'latency.ack_by_event.' + index;
      return el('tr', {
        class: 'clickable' + (selected ? ' selected' : ''),
        onclick: () => { state.ackEvent = selected ? null : { nsp: item.nsp, event: item.event }; IOP.redraw(); },
      },
      td(wire(IOP.eventLabel(item.nsp, item.event)), 'wire'),
      td(statValue(IOP.int(item.count), stat + '.count', item.count), 'r'),
      td(statValue(IOP.ms(item.p50), stat + '.p50', item.p50), 'r'),
      td(IOP.ms(item.p90), 'r'), td(IOP.ms(item.p99), 'r'), td(IOP.ms(item.max), 'r'));
    });
    fill(document.getElementById('ack-table'), table(
      [{ label: 'event' }, { label: 'acks', right: true }, { label: 'p50', right: true }, { label: 'p90', right: true }, { label: 'p99', right: true }, { label: 'max', right: true }],
      rows, { empty: 'no ack seen yet' }));
    const unanswered = lat.unanswered_acks_by_event.map((item, index) => el('tr', null,
      td(wire(IOP.eventLabel(item.nsp, item.event)), 'wire'),
      td(statValue(IOP.int(item.count), 'latency.unanswered_acks_by_event.' + index + '.count', item.count), 'r')));
    fill(document.getElementById('unanswered'),
      el('div', { class: 'bars' },
        el('div', { class: 'name', text: 'heartbeat timeouts' }), el('div'), el('div', { class: 'num' }, statValue(IOP.int(lat.heartbeat_timeouts), 'latency.heartbeat_timeouts', lat.heartbeat_timeouts)),
        el('div', { class: 'name', text: 'pings pending at the end' }), el('div'), el('div', { class: 'num' }, statValue(IOP.int(lat.heartbeat_pending_at_end), 'latency.heartbeat_pending_at_end', lat.heartbeat_pending_at_end)),
        el('div', { class: 'name', text: 'unanswered acks' }), el('div'), el('div', { class: 'num' }, statValue(IOP.int(lat.unanswered_acks), 'latency.unanswered_acks', lat.unanswered_acks))),
      unanswered.length ? table([{ label: 'event without an ack' }, { label: 'count', right: true }], unanswered) : null);
  };

  // -- events ------------------------------------------------------------------------------

  IOP.views.events = function (snapshot) {
    const events = snapshot.summary.events;
    const list = events[state.order];
    const select = document.getElementById('events-nsp');
    const namespaces = [...new Set(list.map((e) => e.nsp))].sort();
    const current = [...select.options].slice(1).map((o) => o.value);
    if (current.join('\u0000') !== namespaces.join('\u0000')) {
      fill(select, el('option', { value: '', text: 'every namespace' }), ...namespaces.map((nsp) => el('option', { value: nsp, text: IOP.visible(nsp) })));
      select.value = state.nsp;
    }
    const dir = state.dir;
    const countOf = (e) => (dir === 'c2s' ? e.count_c2s : dir === 's2c' ? e.count_s2c : e.count);
    const bytesOf = (e) => (dir === 'c2s' ? e.bytes_c2s : dir === 's2c' ? e.bytes_s2c : e.bytes);
    const shown = list.map((e, index) => ({ e, index })).filter(({ e }) => (!state.nsp || e.nsp === state.nsp) && (!dir || countOf(e) > 0 || e.acks > 0));
    const biggest = Math.max(1, ...shown.map(({ e }) => (state.order === 'by_bytes' ? bytesOf(e) : countOf(e))));
    document.getElementById('events-info').textContent = IOP.int(events.distinct) + ' distinct events, ' + IOP.int(events.total) + ' in all, ' + IOP.bytes(events.bytes);
    const rows = shown.slice(0, 30).map(({ e, index }) => {
      const stat = 'events.' + state.order + '.' + index;
      const measure = state.order === 'by_bytes' ? bytesOf(e) : countOf(e);
      const bar = el('span', { class: 'inline-bar' });
      bar.style.width = Math.max(2, (80 * measure) / biggest).toFixed(0) + 'px';
      if (dir) bar.style.background = IOP.colour(dir);
      const selected = state.sizeEvent && state.sizeEvent.nsp === e.nsp && state.sizeEvent.event === e.event;
      return el('tr', {
        class: 'clickable' + (selected ? ' selected' : ''),
        onclick: () => { state.sizeEvent = selected ? null : { nsp: e.nsp, event: e.event }; IOP.redraw(); },
      },
      td(wire(e.nsp), 'wire muted'),
      td(el('span', null, bar, wire(e.event)), 'wire'),
      td(statValue(IOP.int(e.count), stat + '.count', e.count), 'r'),
      td(statValue(IOP.int(e.count_c2s), stat + '.count_c2s', e.count_c2s, 'dir c2s'), 'r'),
      td(statValue(IOP.int(e.count_s2c), stat + '.count_s2c', e.count_s2c, 'dir s2c'), 'r'),
      td(statValue(IOP.bytes(bytesOf(e)), dir ? null : stat + '.bytes', bytesOf(e)), 'r'),
      td(IOP.int(e.attachments), 'r'),
      td(statValue(IOP.int(e.acks), stat + '.acks', e.acks), 'r'));
    });
    fill(document.getElementById('events-table'), table(
      [{ label: 'nsp' }, { label: 'event' }, { label: 'count', right: true }, { label: '→', right: true }, { label: '←', right: true }, { label: dir ? 'bytes ' + (dir === 'c2s' ? '→' : '←') : 'bytes', right: true }, { label: 'binary', right: true }, { label: 'acks', right: true }],
      rows, { empty: 'no event seen yet' }));
    const hist = snapshot.histograms;
    let counts = hist.size;
    const hint = document.getElementById('size-hint');
    hint.textContent = 'every event';
    if (state.sizeEvent) {
      const found = hist.size_by_event.find((x) => x.nsp === state.sizeEvent.nsp && x.event === state.sizeEvent.event);
      if (found) { counts = found.counts; hint.textContent = IOP.visible(IOP.eventLabel(found.nsp, found.event)); }
    }
    IOP.histogram('chart-size', hist.size_edges, counts, 'bar', IOP.bytes, 'no event seen yet');
  };

  // -- errors ------------------------------------------------------------------------------

  IOP.views.errors = function (snapshot) {
    const errors = snapshot.summary.errors;
    fill(document.getElementById('error-kpis'),
      kpi('Errors', IOP.int(errors.total), { stat: 'errors.total', value: errors.total, cls: errors.total ? 'error' : '' }),
      ...errors.by_kind.slice(0, 5).map((item, index) => kpi(IOP.visible(item.name), IOP.int(item.count), { stat: 'errors.by_kind.' + index + '.count', value: item.count, sub: IOP.pct(item.pct) })));
    const rules = snapshot.errors.by_rule.map((entry) => el('tr', null,
      td(wire(entry.kind), 'kind-error'),
      td(wire(entry.rule), 'mono'),
      td(IOP.int(entry.count), 'r'),
      td(wire(entry.reason), 'wire'),
      td(IOP.time(entry.last_ts), 'mono muted')));
    fill(document.getElementById('errors-rules'), table(
      [{ label: 'kind' }, { label: 'rule' }, { label: 'count', right: true }, { label: 'last reason' }, { label: 'last seen' }],
      rules, { empty: 'no error: every packet decoded' }));
    const recent = snapshot.errors.recent.slice(0, 40).map((entry) => el('tr', null,
      td(IOP.time(entry.ts), 'mono muted'),
      td(wire(entry.rule), 'mono'),
      td(entry.sid ? IOP.sessionLink(entry.sid) : '', 'mono'),
      td(wire(entry.reason), 'wire')));
    fill(document.getElementById('errors-recent'), table(
      [{ label: 'time' }, { label: 'rule' }, { label: 'session' }, { label: 'reason' }], recent, { empty: 'no error yet' }));
  };
})(window.IOP);
