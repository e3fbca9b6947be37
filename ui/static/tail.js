// Live tail: lines arrive as Server-Sent Events and are drawn once per animation
// frame, in batches, so a thousand lines a second do not freeze the page. The
// page keeps the newest rows only (data-cap); while paused it counts what
// arrives and shows it on resume.
"use strict";

(() => {
  const root = document.getElementById("tail");
  if (!root) return;
  const app = root.dataset.app;
  const log = document.getElementById("tail-log");
  const form = document.getElementById("tail-filters");
  const statusEl = document.getElementById("tail-status");
  const sampledEl = document.getElementById("tail-sampled");
  const pauseBtn = document.getElementById("tail-pause");
  const newBtn = document.getElementById("tail-new");
  const dynos = document.getElementById("tail-dynos");
  const cap = parseInt(log.dataset.cap, 10) || 5000;
  // perFrame bounds the rows made in one frame; the queue drains over a few
  // frames (60 frames a second take 9,000 rows a second).
  const perFrame = 150;

  let es = null;
  let queue = [];
  let paused = false;
  let held = 0; // lines that arrived while paused and were let go (over the cap)
  let lastID = "";
  let rate = 0;
  const seenDynos = new Set();
  const stats = { received: 0, drawn: 0, frames: 0, maxFrameMs: 0, frameMs: [] };
  root.stats = stats; // read by the browser tests
  stats.state = () => ({ queued: queue.length, paused, rows: log.childElementCount, lastID });

  function params() {
    const p = new URLSearchParams(new FormData(form));
    for (const [k, v] of [...p]) if (!v) p.delete(k);
    return p;
  }

  function connect(resumeAfter) {
    if (es) es.close();
    const p = params();
    if (resumeAfter) p.set("after", resumeAfter);
    es = new EventSource("/ui/stream?" + p.toString());
    setStatus("connecting…", "wait");
    es.onopen = () => setStatus("live", "ok");
    es.onmessage = (ev) => {
      const line = JSON.parse(ev.data);
      lastID = ev.lastEventId;
      stats.received++;
      queue.push(line);
      if (queue.length > cap) {
        const over = queue.length - cap;
        queue.splice(0, over);
        held += over;
      }
      schedule();
    };
    es.addEventListener("stats", (ev) => showStats(JSON.parse(ev.data)));
    es.addEventListener("expired", () => { es.close(); setStatus("session ended: log in again", "bad", true); });
    es.addEventListener("failure", (ev) => {
      const f = JSON.parse(ev.data);
      if (f.final) es.close(); // a refused query: fix it, and the page reconnects
      setStatus(f.error, "bad");
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream: find out whether the session ended
        // (fetchJSON then goes to the login page) before trying again.
        setStatus("disconnected: reconnecting…", "wait");
        setTimeout(() => DP.fetchJSON("/ui/session").then(() => connect(lastID), () => setStatus("disconnected", "bad", true)), 2000);
      } else {
        setStatus("reconnecting…", "wait");
      }
    };
  }

  function setStatus(text, kind, login) {
    statusEl.textContent = "";
    statusEl.className = "status " + kind;
    statusEl.append(DP.el("span", "dot", "●", { "aria-hidden": "true" }), " " + text);
    if (kind === "ok" && rate) statusEl.append(" · " + DP.fmtCount(rate) + " lines/s");
    if (login) statusEl.append(" ", DP.el("a", "", "Log in", { href: "/ui/login?next=" + encodeURIComponent(location.pathname + location.search) }));
  }

  function showStats(s) {
    rate = s.rate;
    if (es && es.readyState === EventSource.OPEN) setStatus("live", "ok");
    if (s.sampled) {
      sampledEl.hidden = false;
      sampledEl.textContent = "Sampling: " + DP.fmtCount(s.rate) + " matching lines/s is more than the live tail sends (" +
        DP.fmtCount(s.limit) + "/s), so it shows " + DP.fmtCount(s.shown) + " of them each second, spread evenly. " +
        "Every line is stored: narrow the filters to see them all here, or use Search.";
    } else {
      sampledEl.hidden = true;
    }
  }

  let scheduled = false;
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(draw);
  }

  function atBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  function draw() {
    scheduled = false;
    const t0 = performance.now();
    if (paused) {
      updateNew();
      return;
    }
    const take = queue.splice(0, perFrame);
    if (take.length) {
      const frag = document.createDocumentFragment();
      for (const line of take) {
        frag.append(DP.lineRow(line));
        if (line.dyno && !seenDynos.has(line.dyno) && seenDynos.size < 200) {
          seenDynos.add(line.dyno);
          dynos.append(DP.el("option", "", null, { value: line.dyno }));
        }
      }
      log.append(frag);
      stats.drawn += take.length;
      const extra = log.childElementCount - cap;
      if (extra > 0) {
        // One removal of the oldest rows, not one per row.
        const r = document.createRange();
        r.setStartBefore(log.firstElementChild);
        r.setEndAfter(log.children[extra - 1]);
        r.deleteContents();
      }
      // Not paused is following: keep to the bottom. Rows out of view are sized by
      // estimate until drawn, so look again once this frame has drawn them.
      toBottom();
      requestAnimationFrame(() => { if (!paused) toBottom(); });
    }
    if (queue.length) schedule();
    held = 0;
    updateNew();
    const ms = performance.now() - t0;
    stats.frames++;
    if (ms > stats.maxFrameMs) stats.maxFrameMs = ms;
    if (take.length && stats.frameMs.length < 5000) stats.frameMs.push(ms);
  }

  function updateNew() {
    const n = queue.length + held;
    if (paused && n > 0) {
      newBtn.hidden = false;
      newBtn.textContent = "▼ " + DP.fmtCount(n) + " new line" + (n === 1 ? "" : "s") +
        (held ? " (the oldest " + DP.fmtCount(held) + " will not be shown)" : "") + " · resume (Space)";
    } else {
      newBtn.hidden = true;
    }
  }

  function toBottom() {
    log.scrollTop = log.scrollHeight;
  }

  function setPaused(p) {
    paused = p;
    pauseBtn.textContent = p ? "Resume" : "Pause";
    pauseBtn.setAttribute("aria-pressed", String(p));
    root.classList.toggle("paused", p);
    if (!p) toBottom();
    schedule();
  }

  pauseBtn.addEventListener("click", () => setPaused(!paused));
  newBtn.addEventListener("click", () => setPaused(false));
  document.getElementById("tail-clear").addEventListener("click", () => { log.textContent = ""; });

  // The reader scrolling up pauses, as in a terminal; scrolling back to the
  // bottom resumes. Only the reader's own scrolling counts (wheel, touch, keys,
  // the scroll bar): a scroll the layout makes (a notice shown or hidden, rows
  // added) never pauses.
  let userUntil = 0;
  const userScroll = () => { userUntil = performance.now() + 1000; };
  for (const ev of ["wheel", "touchmove", "mousedown", "keydown"]) log.addEventListener(ev, userScroll, { passive: true });
  log.addEventListener("scroll", () => {
    if (performance.now() > userUntil) return;
    if (!paused && !atBottom()) setPaused(true);
    else if (paused && atBottom()) setPaused(false);
  }, { passive: true });

  log.addEventListener("click", (e) => {
    const row = e.target.closest(".row");
    if (row && !window.getSelection().toString()) toggleDetail(row);
  });
  DP.rowKeys(log, toggleDetail);

  function toggleDetail(row) {
    const next = row.nextElementSibling;
    if (next && next.classList.contains("detail")) { next.remove(); return; }
    if (!paused) setPaused(true);
    row.after(DP.lineDetail(row.line));
  }

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(e.target.tagName) && e.target !== log) return;
    if (e.key === " " || e.key === "p") { setPaused(!paused); e.preventDefault(); }
    else if (e.key === "c") log.textContent = "";
    else if (e.key === "End") setPaused(false);
  });

  // Changing a filter starts a new stream with the newest matching lines.
  let timer = 0;
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      log.textContent = "";
      queue = [];
      history.replaceState(null, "", "?" + params().toString());
      connect("");
    }, 300);
  });
  form.addEventListener("submit", (e) => e.preventDefault());

  connect("");
})();
