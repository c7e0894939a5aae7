/* Where the page's data comes from: the server (Server-Sent Events, JSON API) or, in an
 * exported report, the JSON embedded in the page. Both offer the same calls. */
'use strict';
(function (IOP) {
  const embedded = document.getElementById('ioproto-data');

  function staticSource(data) {
    const timelines = data.timelines || {};
    return {
      isStatic: true,
      start(onSnapshot) { onSnapshot(data.snapshot); },
      packets() { return Promise.resolve({ rows: data.packets || [] }); },
      sessions() { return Promise.resolve({ sessions: data.sessions || [] }); },
      session(sid) {
        const view = timelines[sid];
        if (view) return Promise.resolve(view);
        const found = (data.sessions || []).find((s) => s.sid === sid);
        return Promise.resolve(found ? { session: found, rows: [], skipped: 0 } : null);
      },
    };
  }

  function getJson(url) {
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then((response) => {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
      return response.json();
    });
  }

  function liveSource() {
    let onStatus = () => {};
    return {
      isStatic: false,
      onStatus(callback) { onStatus = callback; },
      start(onSnapshot) {
        let polling = null;
        const poll = () => getJson('api/snapshot').then(onSnapshot, () => onStatus('disconnected'));
        const source = new EventSource('api/stream');
        source.addEventListener('snapshot', (event) => {
          onStatus('connected');
          onSnapshot(JSON.parse(event.data));
        });
        source.addEventListener('error', () => {
          onStatus('reconnecting');
          if (source.readyState === EventSource.CLOSED && polling === null) {
            polling = setInterval(poll, 1000); // no event stream: ask once a second
          }
        });
      },
      packets(after) { return getJson('api/packets?limit=5000&after=' + encodeURIComponent(after || 0)); },
      sessions() { return getJson('api/sessions?limit=500'); },
      session(sid) { return getJson('api/session/' + encodeURIComponent(sid)); },
    };
  }

  IOP.data = embedded ? staticSource(JSON.parse(embedded.textContent)) : liveSource();
})(window.IOP);
