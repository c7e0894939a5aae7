/* Charts on uPlot (vendored, see tools/dashboard-vendor), in the theme's colours.
 * Each chart is kept by the id of its container and updated with setData; a theme change or
 * a resize rebuilds it. Labels from the wire never reach a chart (axes show numbers). */
'use strict';
(function (IOP) {
  const plots = new Map(); // container id -> {plot, key, spec}
  const HEIGHT = 190;

  IOP.colour = function (name) {
    return getComputedStyle(document.documentElement).getPropertyValue('--' + name).trim() || '#888';
  };

  function alpha(colour, a) {
    // #rrggbb -> rgba(); other forms are returned as they are
    const m = /^#([0-9a-f]{6})$/i.exec(colour);
    if (!m) return colour;
    const n = parseInt(m[1], 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }
  IOP.alpha = alpha;

  function axis(extra) {
    return Object.assign({
      stroke: IOP.colour('muted'),
      grid: { stroke: IOP.colour('line'), width: 1 },
      ticks: { stroke: IOP.colour('line'), width: 1 },
      font: '11px system-ui, sans-serif',
    }, extra || {});
  }

  /** An axis wide enough for its longest label. */
  function labelSize(u, values) {
    const longest = (values || []).reduce((n, v) => Math.max(n, String(v).length), 0);
    return Math.max(40, 16 + longest * 7);
  }

  /** Keep the legend on the newest values while the cursor is not over the chart. */
  function legendOnLast(u) {
    if (u.cursor.idx === null || u.cursor.idx === undefined) {
      let last = u.data[0].length - 1;
      const empty = (i) => u.data.slice(1).every((ys) => ys[i] === null || ys[i] === undefined);
      while (last > 0 && empty(last)) last -= 1;
      if (last >= 0) u.setLegend({ idx: last });
    }
  }

  function widthOf(container) {
    return Math.max(200, Math.floor(container.clientWidth || container.parentElement.clientWidth || 400));
  }

  function place(id, key, makeOptions, data) {
    const container = document.getElementById(id);
    if (!container || container.offsetParent === null) return; // hidden view: drawn when shown
    const width = widthOf(container);
    let entry = plots.get(id);
    if (entry && (entry.key !== key || entry.width !== width || entry.theme !== IOP.theme)) {
      entry.plot.destroy();
      plots.delete(id);
      entry = null;
    }
    if (!entry) {
      container.replaceChildren();
      const plot = new uPlot(Object.assign({ width, height: HEIGHT }, makeOptions()), data, container);
      plots.set(id, { plot, key, width, theme: IOP.theme });
    } else {
      entry.plot.setData(data);
    }
  }

  function emptyNote(id, text) {
    const container = document.getElementById(id);
    if (!container) return;
    const entry = plots.get(id);
    if (entry) { entry.plot.destroy(); plots.delete(id); }
    IOP.fill(container, IOP.el('div', { class: 'empty', text }));
  }
  IOP.emptyChart = emptyNote;

  /** The labels drawn on axis ``index`` of chart ``id`` (0: time, 1: values), as uPlot last
   * drew them; [] when the chart shows nothing. For the browser tests: the canvas holds them
   * as pixels only. */
  IOP.axisLabels = function (id, index) {
    const entry = plots.get(id);
    const axis = entry && entry.plot.axes[index];
    return axis && axis._values ? axis._values.slice() : [];
  };

  function decades(u, axisIdx, min, max) {
    const out = [];
    for (let v = min; v <= max * 1.0001; v *= 10) out.push(v);
    return out;
  }

  function logRange(u, min, max) {
    const low = min > 0 ? Math.pow(10, Math.floor(Math.log10(min))) : 0.01;
    const high = max > 0 ? Math.pow(10, Math.ceil(Math.log10(max))) : 1;
    return [low, high > low ? high : low * 10];
  }

  /** Tick steps of an axis of counts: whole numbers only (uPlot's own steps go below 1 on a
   * small range, and a count of 0.5 sessions would be written as 1). */
  const INTEGER_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2.5e3, 5e3, 1e4, 2e4, 2.5e4, 5e4, 1e5, 2e5, 2.5e5, 5e5, 1e6];

  /**
   * A time chart: data = [times (s), ys...]; lines = [{label, colour, fill, dash, width}].
   * opts: {format(v) for the axis and legend, log: log scale, integer: ticks on whole numbers
   * only (counts), stacked: legend values from raw}
   */
  IOP.timeChart = function (id, lines, data, opts) {
    opts = opts || {};
    const anything = data.slice(1).some((ys) => ys.some((v) => v !== null && v !== undefined));
    if (!data[0].length || !anything) { emptyNote(id, opts.empty || 'nothing yet'); return; }
    const given = opts.format || IOP.rate;
    const format = (v) => (v === null || v === undefined || Number.isNaN(v) ? '-' : given(v));
    const key = lines.map((l) => l.label + l.colour).join('|') + (opts.log ? 'log' : '');
    place(id, key, () => ({
      legend: { live: true },
      cursor: { points: { size: 6 } },
      hooks: { ready: [legendOnLast], setCursor: [legendOnLast], setData: [legendOnLast] },
      scales: { x: { time: true }, y: opts.log ? { distr: 3, log: 10, range: logRange } : { range: (u, min, max) => [0, max > 0 ? max * 1.08 : 1] } },
      axes: [axis(), axis(Object.assign({ size: labelSize, values: (u, splits) => splits.map((v) => (v === null || v === undefined ? '' : format(v))) },
        opts.log ? { splits: decades } : {}, opts.integer ? { incrs: INTEGER_STEPS } : {}))],
      series: [
        { value: (u, v) => (v === null || v === undefined ? '-' : IOP.time(v)) },
        ...lines.map((line, index) => ({
          label: line.label,
          stroke: IOP.colour(line.colour),
          width: line.width || 1.6,
          dash: line.dash,
          fill: line.fill ? alpha(IOP.colour(line.colour), line.fill) : undefined,
          points: { show: !!opts.points, size: 4 },
          spanGaps: !!opts.spanGaps,
          value: (u, v, si, di) => {
            const raw = opts.raw ? opts.raw[index] : null;
            const shown = raw && di !== null && di !== undefined ? raw[di] : v;
            return shown === null || shown === undefined ? '-' : format(shown);
          },
        })),
      ],
      bands: opts.bands,
    }), data);
  };

  /**
   * A histogram: counts per bin with edges (edges[i] is the lower edge of bin i + 1; bin 0
   * is "below edges[0]"). Empty bins at both ends are left out.
   */
  IOP.histogram = function (id, edges, counts, colour, format, emptyText) {
    let first = counts.findIndex((c) => c > 0);
    if (first < 0) { emptyNote(id, emptyText || 'nothing measured yet'); return; }
    let last = counts.length - 1;
    while (last > first && counts[last] === 0) last -= 1;
    first = Math.max(0, first - 1);
    last = Math.min(counts.length - 1, last + 1);
    const xs = [];
    const ys = [];
    for (let i = first; i <= last; i++) { xs.push(i); ys.push(counts[i]); }
    const lower = (i) => (i === 0 ? 0 : edges[i - 1]);
    const upper = (i) => (i >= edges.length ? Infinity : edges[i]);
    const label = (i) => format(lower(i));
    const key = 'hist' + colour + first + '-' + last;
    place(id, key, () => ({
      legend: { live: true },
      cursor: { points: { show: false } },
      scales: { x: { time: false, range: [first - 0.5, last + 0.5] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        axis({ values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? label(v) : '')), incrs: [1, 2, 4, 8] }),
        axis({ size: labelSize, values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? IOP.int(v) : '')) }),
      ],
      series: [
        { label: 'range', value: (u, i) => (i === null || i === undefined ? '-' : format(lower(i)) + ' – ' + (upper(i) === Infinity ? '∞' : format(upper(i)))) },
        {
          label: 'count',
          stroke: IOP.colour(colour),
          fill: alpha(IOP.colour(colour), 0.55),
          width: 1,
          paths: uPlot.paths.bars({ size: [0.86, 80] }),
          points: { show: false },
          value: (u, v) => (v === null || v === undefined ? '-' : IOP.int(v)),
        },
      ],
    }), [xs, ys]);
  };

  IOP.resetCharts = function () {
    for (const entry of plots.values()) entry.plot.destroy();
    plots.clear();
  };
})(window.IOP);
