// Metrics: the server lays the app's series out in panels (/ui/data/metrics);
// this draws each with uPlot. Hovering shows the values of every graph at that
// time (the cursors are synced); dragging across a graph zooms the page to it.
"use strict";

(() => {
  const root = document.getElementById("metrics");
  if (!root) return;
  const app = root.dataset.app;
  const statusEl = document.getElementById("metrics-status");
  const panelsEl = document.getElementById("panels");
  const palette = ["#5aa9ff", "#f7a35c", "#6fcf8b", "#ff6f6f", "#c792ea", "#e8c06a", "#89ddff", "#ff9cac",
    "#c3e88d", "#82aaff", "#f78c6c", "#b2ccd6", "#ffcb6b", "#80cbc4", "#d4bfff", "#aab1c0"];
  const statusColours = { "1xx": "#89ddff", "2xx": "#6fcf8b", "3xx": "#5aa9ff", "4xx": "#e8c06a", "5xx": "#ff6f6f" };
  const sync = uPlot.sync("drainpipe-metrics");
  let charts = [];

  // fmtNum writes a number in at most 3 significant digits with a k/M/G/T suffix.
  function fmtNum(v) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a === 0) return "0";
    for (const [d, s] of [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]]) {
      if (a >= d) return +(v / d).toPrecision(3) + s;
    }
    return a >= 1 ? String(+v.toPrecision(3)) : String(+v.toPrecision(2));
  }

  function fmtValue(v, unit) {
    if (v === null || v === undefined) return "–";
    return fmtNum(v) + (unit ? " " + unit : "");
  }

  function fmtTime(sec) {
    return new Date(sec * 1000).toISOString().replace("T", " ").slice(0, 19);
  }

  // timeTicks labels the time axis in UTC: hours and minutes, with the date
  // where it changes (and on every tick of a range of days).
  function timeTicks(u, splits) {
    const span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    let lastDay = "";
    return splits.map((s) => {
      const iso = new Date(s * 1000).toISOString();
      const day = iso.slice(5, 10), hm = iso.slice(11, 16);
      const label = span > 2 * 86400 ? day + " " + hm : (day !== lastDay && lastDay !== "" ? day + "\n" + hm : hm);
      lastDay = day;
      return label;
    });
  }

  // lastValue is what a legend shows while the cursor is off the graph: the last
  // value, not counting the step still under way when the range ends now.
  function lastValue(values) {
    const end = root.dataset.live && values.length > 1 ? values.length - 2 : values.length - 1;
    for (let i = end; i >= 0; i--) if (values[i] !== null) return values[i];
    return null;
  }

  function chartOpts(p, width, height) {
    const series = [{ label: "UTC", value: (u, v) => (v == null ? "latest" : fmtTime(v)) }];
    p.series.forEach((s, i) => {
      const stroke = statusColours[s.label] || (s.dash ? "#aab1c0" : palette[i % palette.length]);
      const latest = lastValue(s.values);
      series.push({
        label: s.label, stroke, width: s.dash ? 1.5 : 1.6, dash: s.dash ? [6, 4] : undefined,
        spanGaps: !!s.join, value: (u, v, si, idx) => fmtValue(idx == null ? latest : v, p.unit),
      });
    });
    const axis = { stroke: "#8a93a3", grid: { stroke: "#232833", width: 1 }, ticks: { stroke: "#2c3240", width: 1 }, font: "11px system-ui, sans-serif" };
    return {
      width, height, series,
      cursor: { sync: { key: sync.key, setSeries: false }, drag: { x: true, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] } },
      axes: [
        { ...axis, space: 70, values: timeTicks },
        { ...axis, size: 50, values: (u, splits) => splits.map(fmtNum) },
      ],
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      hooks: { setSelect: [zoomTo] },
    };
  }

  // zoomTo turns a drag across a graph into the page's new time range.
  function zoomTo(u) {
    if (u.select.width < 5) return;
    const from = u.posToVal(u.select.left, "x");
    const to = u.posToVal(u.select.left + u.select.width, "x");
    const iso = (s) => new Date(s * 1000).toISOString().slice(0, 19) + "Z";
    const q = new URLSearchParams({ app, from: iso(from), to: iso(to) });
    for (const k of ["name", "source"]) if (root.dataset[k]) q.set(k, root.dataset[k]);
    location.href = "?" + q.toString();
  }

  function draw(data) {
    for (const c of charts) c.destroy();
    charts = [];
    panelsEl.textContent = "";
    if (!data.panels.length) {
      statusEl.textContent = "No metrics for " + app + " in this range. They come from router lines, Heroku's runtime metrics " +
        "(log-runtime-metrics), add-on samples and l2met fields (measure#, count#, sample#, unique#) in the logs.";
      return;
    }
    statusEl.textContent = data.panels.length + " graphs, one point every " + fmtStep(data.step) +
      (data.omitted ? "; " + data.omitted + " series over the page's limits are not drawn" : "") + ".";
    let section = "";
    for (const p of data.panels) {
      if (p.section !== section) {
        section = p.section;
        panelsEl.append(DP.el("h2", "section-title", section));
      }
      const box = DP.el("section", "panel" + (p.small ? " small" : ""), null, { "aria-label": p.title });
      const h = DP.el("h2", "", p.title);
      h.append(DP.el("span", "unit", p.unit));
      const chart = DP.el("div", "chart");
      box.append(h, chart);
      panelsEl.append(box);
      const width = Math.max(240, chart.clientWidth);
      const height = p.small ? 150 : 220;
      const cols = [data.times, ...p.series.map((s) => s.values)];
      const u = new uPlot(chartOpts(p, width, height), cols, chart);
      sync.sub(u);
      u.panel = p;
      charts.push(u);
    }
    root.dataset.drawn = String(charts.length);
    root.dataset.points = String(data.panels.reduce((n, p) => n + p.series.reduce((m, s) => m + s.values.filter((v) => v !== null).length, 0), 0));
  }

  function fmtStep(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return s / 60 + " min";
    if (s < 86400) return s / 3600 + " h";
    return s / 86400 + " d";
  }

  async function load() {
    const q = new URLSearchParams({ app, from: root.dataset.from });
    for (const k of ["to", "name", "source"]) if (root.dataset[k]) q.set(k, root.dataset[k]);
    try {
      draw(await DP.fetchJSON("/ui/data/metrics?" + q.toString()));
    } catch (e) {
      statusEl.textContent = "Could not load the metrics: " + e.message;
    }
  }

  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const u of charts) u.setSize({ width: Math.max(240, u.root.parentElement.clientWidth), height: u.height });
    }, 150);
  });

  load();
  // A range that ends now follows the clock.
  if (root.dataset.live) setInterval(() => { if (!document.hidden) load(); }, 60000);
})();
