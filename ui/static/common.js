// drainpipe web UI: what every page shares. Log lines are attacker-controlled:
// they only ever reach the page through textContent, never as HTML.
"use strict";

const DP = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

  // fetchJSON gets or sends JSON; changes carry the session's CSRF token.
  async function fetchJSON(url, opts = {}) {
    const headers = { Accept: "application/json", ...(opts.headers || {}) };
    const method = (opts.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf;
    if (opts.body !== undefined && typeof opts.body !== "string") {
      headers["Content-Type"] = "application/json";
      opts = { ...opts, body: JSON.stringify(opts.body) };
    }
    const resp = await fetch(url, { ...opts, method, headers, credentials: "same-origin" });
    let data = null;
    try { data = await resp.json(); } catch (_) { /* not JSON */ }
    if (resp.status === 401) {
      location.href = "/ui/login?next=" + encodeURIComponent(location.pathname + location.search);
      throw new Error("not logged in");
    }
    if (!resp.ok) throw new Error((data && data.error) || resp.status + " " + resp.statusText);
    return data;
  }

  // el makes an element with text (never HTML) and attributes.
  function el(tag, cls, text, attrs) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  }

  // Severity from the syslog priority when it says more than "info", else from the
  // words Heroku and common loggers put in lines.
  const errRe = /\bat=error\b|\bcode=[HRL]\d\d\b|\bError [HRL]\d\d\b|\bstatus=5\d\d\b|\blevel=(error|fatal|crit(ical)?|panic|emerg)\b|\b(ERROR|FATAL|CRITICAL|PANIC)\b|\b(Exception|Traceback|panic:)/;
  const warnRe = /\bat=warn(ing)?\b|\bstatus=4\d\d\b|\blevel=warn(ing)?\b|\bWARN(ING)?\b|\bDeprecat/;
  const debugRe = /\blevel=(debug|trace)\b|\b(DEBUG|TRACE)\b/;
  function severity(line) {
    if (line.malformed) return "warn";
    const sev = line.priority >= 0 ? line.priority & 7 : 6;
    if (sev <= 3) return "error";
    const m = line.message || "";
    if (errRe.test(m)) return "error";
    if (sev === 4 || warnRe.test(m)) return "warn";
    if (sev === 7 || debugRe.test(m)) return "debug";
    return "info";
  }

  // colour picks one of eight colours for a dyno's process type (web, worker,
  // router ...), so web.1 and web.2 share one and the eye groups them.
  function colour(source, dyno) {
    const kind = (source || "") + ":" + String(dyno || "").replace(/\.\d+$/, "");
    let h = 5381;
    for (let i = 0; i < kind.length; i++) h = ((h * 33) ^ kind.charCodeAt(i)) >>> 0;
    return "c" + (h % 8);
  }

  // fmtTime shows a time in UTC to the millisecond, as the server pages do.
  function fmtTime(s) {
    const d = new Date(s);
    if (isNaN(d)) return "";
    return d.toISOString().replace("T", " ").slice(0, 23);
  }

  function fmtCount(n) { return Number(n).toLocaleString("en-US"); }

  // origin is what heroku logs (and drainpipe's CLI) print before the message:
  // source[dyno], or the source alone for a line without a dyno (a syslog line
  // without a PROCID), or nothing.
  function origin(line) {
    if (line.dyno) return (line.source || "") + "[" + line.dyno + "]";
    return line.source || "";
  }

  // lineRow renders one log line: time, source[dyno], message.
  function lineRow(line) {
    const row = el("div", "row sev-" + severity(line));
    row.dataset.id = line.id;
    row.line = line;
    row.tabIndex = -1;
    row.append(
      el("time", "t", fmtTime(line.time), { datetime: line.time }),
      el("span", "d " + colour(line.source, line.dyno), origin(line)),
      el("span", "m", line.message),
    );
    if (line.malformed) row.classList.add("malformed");
    return row;
  }

  // lineDetail is the panel under a clicked line: its fields and links.
  function lineDetail(line) {
    const box = el("div", "detail");
    const dl = el("dl");
    const add = (k, v) => { if (v !== undefined && v !== "" && v !== null) dl.append(el("dt", "", k), el("dd", "", v)); };
    add("app", line.app);
    add("id", line.id);
    add("time", line.time);
    add("received", line.received);
    add("source", line.source);
    add("dyno", line.dyno);
    add("priority", line.priority);
    add("structured data", line.structured_data);
    add("malformed", line.malformed ? "yes: stored raw" : "");
    box.append(dl);
    const links = el("p", "links");
    const url = lineURL(line.id);
    if (location.pathname !== url) links.append(el("a", "", "Context: the 50 lines before and after", { href: url }), " · ");
    const copy = el("button", "link", "Copy permalink", { type: "button" });
    copy.addEventListener("click", () => copyText(new URL(url, location.href).href, copy));
    links.append(copy);
    box.append(links);
    return box;
  }

  // lineURL is a line's permalink: the line in its context.
  function lineURL(id) {
    return "/ui/lines/" + encodeURIComponent(id);
  }

  async function copyText(text, button) {
    try {
      await navigator.clipboard.writeText(text);
      if (button) flash(button, "Copied");
    } catch (_) {
      const ta = el("textarea", "offscreen");
      ta.value = text;
      document.body.append(ta);
      ta.select();
      document.execCommand("copy");
      ta.remove();
      if (button) flash(button, "Copied");
    }
  }

  function flash(button, text) {
    const old = button.textContent;
    button.textContent = text;
    setTimeout(() => { button.textContent = old; }, 1200);
  }

  // Keyboard: g then a letter goes to a page; / focuses the page's query box; ?
  // opens the help. Keys typed into a field are the field's.
  const goTo = { t: "/ui/tail", s: "/ui/search", m: "/ui/metrics", d: "/ui/drains", a: "/ui/alerts", y: "/ui/system" };
  let pendingG = 0;
  function typing(e) {
    const t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    const help = document.getElementById("help");
    if (e.key === "?") {
      if (help && !help.open) help.showModal();
      e.preventDefault();
      return;
    }
    if (e.key === "/") {
      const q = document.querySelector("[data-query]") || document.querySelector('input[name="q"]');
      if (q) {
        e.preventDefault(); // the "/" is not typed into the box
        q.focus();
        q.select?.();
      }
      return;
    }
    if (e.key === "g") { pendingG = Date.now(); return; }
    if (pendingG && Date.now() - pendingG < 1500 && goTo[e.key]) {
      const app = new URLSearchParams(location.search).get("app") || document.getElementById("app-switch")?.value || "";
      const page = goTo[e.key];
      location.href = page + (app && !/drains|system/.test(page) ? "?app=" + encodeURIComponent(app) : "");
      e.preventDefault();
    }
    pendingG = 0;
  });
  document.getElementById("help-open")?.addEventListener("click", () => document.getElementById("help")?.showModal());

  // The app switcher goes to the same page for another app, keeping the time range.
  const sw = document.getElementById("app-switch");
  if (sw) {
    sw.addEventListener("change", () => {
      const cur = new URLSearchParams(location.search);
      const next = new URLSearchParams({ app: sw.value });
      for (const k of ["from", "to", "range"]) if (cur.get(k)) next.set(k, cur.get(k));
      location.href = location.pathname + "?" + next.toString();
    });
  }

  // Buttons with data-copy copy the value of the field they name.
  for (const b of document.querySelectorAll("[data-copy]")) {
    b.addEventListener("click", () => copyText(document.getElementById(b.dataset.copy).value, b));
  }

  // j/k move between rows of a list of lines; Enter opens the focused one.
  function rowKeys(container, open) {
    container.addEventListener("keydown", (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const rows = () => container.querySelectorAll(".row");
      const cur = document.activeElement?.closest?.(".row");
      if (e.key === "j" || e.key === "k") {
        const list = Array.from(rows());
        if (!list.length) return;
        let i = cur ? list.indexOf(cur) : (e.key === "j" ? -1 : list.length);
        i = Math.max(0, Math.min(list.length - 1, i + (e.key === "j" ? 1 : -1)));
        list[i].focus();
        list[i].scrollIntoView({ block: "nearest" });
        e.preventDefault();
      } else if (e.key === "Enter" && cur) {
        open(cur);
        e.preventDefault();
      }
    });
  }

  return { csrf, fetchJSON, el, severity, colour, fmtTime, fmtCount, lineRow, lineDetail, lineURL, copyText, rowKeys };
})();
