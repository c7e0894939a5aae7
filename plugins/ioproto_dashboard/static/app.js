/* The page: tabs (the URL's #hash names the view), theme, pause, and drawing the newest
 * snapshot once per animation frame. */
'use strict';
(function (IOP) {
  const VIEWS = ['overview', 'transports', 'clients', 'latency', 'events', 'packets', 'errors'];
  let paused = false;
  let pending = null;
  let scheduled = false;
  // For tests and benchmarks: what was drawn and how long after it was published.
  // freshness: at each draw that shows newer traffic, how old its newest record is (s).
  IOP.metrics = { snapshots: 0, draws: 0, version: 0, lastDelayMs: null, maxDelayMs: 0, drawMs: 0, freshness: [], lastTs: null };

  function currentView() {
    const name = (location.hash || '#overview').slice(1);
    return VIEWS.includes(name) ? name : 'overview';
  }

  function showView() {
    const name = currentView();
    for (const view of VIEWS) {
      document.getElementById('view-' + view).classList.toggle('active', view === name);
    }
    for (const link of document.querySelectorAll('#tabs a')) {
      link.classList.toggle('active', link.dataset.view === name);
    }
    IOP.redraw();
  }

  function draw() {
    scheduled = false;
    const snapshot = IOP.current;
    if (!snapshot) return;
    const started = performance.now();
    IOP.renderHeader(snapshot);
    IOP.views[currentView()](snapshot);
    const m = IOP.metrics;
    m.draws += 1;
    m.version = snapshot.meta.version;
    m.drawMs = performance.now() - started;
    if (!IOP.data.isStatic) {
      m.lastDelayMs = Date.now() - snapshot.meta.generated * 1000;
      m.maxDelayMs = Math.max(m.maxDelayMs, m.lastDelayMs);
      if (snapshot.meta.last_ts !== null && snapshot.meta.last_ts !== m.lastTs) {
        m.lastTs = snapshot.meta.last_ts;
        if (m.freshness.length >= 1000) m.freshness.shift();
        m.freshness.push(Date.now() / 1000 - snapshot.meta.last_ts);
      }
    }
    document.body.dataset.version = String(snapshot.meta.version);
    document.body.dataset.finished = String(!!snapshot.meta.finished);
    const status = document.getElementById('status');
    const memory = snapshot.memory || {};
    const kept = Object.values(memory).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
    status.textContent = IOP.data.isStatic
      ? 'A static report made by ioproto dashboard --export.'
      : 'update ' + IOP.int(snapshot.meta.version) + ' · published in ' + snapshot.meta.publish_ms + ' ms in all · about ' + IOP.bytes(kept) + ' kept for these views';
  }

  IOP.redraw = function () {
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(draw);
    }
  };

  function receive(snapshot) {
    IOP.metrics.snapshots += 1;
    if (paused) { pending = snapshot; return; }
    IOP.current = snapshot;
    IOP.redraw();
  }

  function applyTheme(theme) {
    IOP.theme = theme;
    document.documentElement.dataset.theme = theme;
    document.getElementById('theme').textContent = theme === 'dark' ? 'Light' : 'Dark';
    IOP.resetCharts();
    IOP.redraw();
  }

  function storedTheme() {
    try { return localStorage.getItem('ioproto-dashboard-theme'); } catch (e) { return null; }
  }

  function setup() {
    const params = new URLSearchParams(location.search);
    const theme = params.get('theme') || storedTheme()
      || (window.matchMedia && matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark');
    applyTheme(theme === 'light' ? 'light' : 'dark');
    document.getElementById('theme').addEventListener('click', () => {
      const next = IOP.theme === 'dark' ? 'light' : 'dark';
      try { localStorage.setItem('ioproto-dashboard-theme', next); } catch (e) { /* a file:// page may not store */ }
      applyTheme(next);
    });
    const pause = document.getElementById('pause');
    pause.addEventListener('click', () => {
      paused = !paused;
      pause.setAttribute('aria-pressed', String(paused));
      pause.textContent = paused ? 'Resume' : 'Pause';
      if (!paused && pending) { IOP.current = pending; pending = null; IOP.redraw(); }
    });
    if (IOP.data.isStatic) pause.hidden = true;
    for (const button of document.querySelectorAll('#events-order button')) {
      button.addEventListener('click', () => {
        IOP.viewState.order = button.dataset.order;
        for (const b of document.querySelectorAll('#events-order button')) b.classList.toggle('on', b === button);
        IOP.redraw();
      });
    }
    for (const button of document.querySelectorAll('#events-dir button')) {
      button.addEventListener('click', () => {
        IOP.viewState.dir = button.dataset.dir;
        for (const b of document.querySelectorAll('#events-dir button')) b.classList.toggle('on', b === button);
        IOP.redraw();
      });
    }
    document.getElementById('events-nsp').addEventListener('change', (event) => {
      IOP.viewState.nsp = event.target.value;
      IOP.redraw();
    });
    IOP.setupPackets();
    window.addEventListener('hashchange', showView);
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { IOP.resetCharts(); IOP.redraw(); }, 150);
    });
    if (IOP.data.onStatus) {
      IOP.data.onStatus((status) => {
        if (status !== 'connected') {
          const badge = document.getElementById('mode');
          badge.className = 'badge';
          badge.textContent = status === 'disconnected' ? 'server gone' : 'reconnecting';
        }
      });
    }
    showView();
    IOP.data.start(receive);
  }

  setup();
})(window.IOP);
