// Search: the page's URL is the search. This draws the histogram of matching
// lines over the range (a bar zooms in), the facets (a value narrows the search),
// and the lines, a page at a time as the reader scrolls. It also shows a line's
// context: the permalink page /ui/lines/{id}.
"use strict";

(() => {
  const results = document.getElementById("results");
  const search = document.getElementById("search");
  const lineCtx = document.getElementById("line-context");
  if (search) runSearch(search);
  if (lineCtx) runContext(lineCtx);

  function params(root) {
    const d = root.dataset;
    const p = new URLSearchParams({ since: d.since, until: d.until });
    if (d.q) p.set("q", d.q);
    if (d.source) p.set("source", d.source);
    if (d.dyno) p.set("dyno", d.dyno);
    return p;
  }

  function apiBase(app) {
    return "/ui/api/apps/" + encodeURIComponent(app);
  }

  // pageURL is this page's URL with some parameters changed ("" removes one).
  function pageURL(changes) {
    const u = new URL(location.href);
    for (const [k, v] of Object.entries(changes)) {
      if (v === "" || v === null) u.searchParams.delete(k); else u.searchParams.set(k, v);
    }
    return u.pathname + "?" + u.searchParams.toString();
  }

  function runSearch(root) {
    const app = root.dataset.app;
    if (root.dataset.error) {
      document.getElementById("summary").textContent = "Fix the search above.";
      return;
    }
    histogram(root, app);
    facets(root, app);
    pages(root, app);
    rowDetails(app);
  }

  async function histogram(root, app) {
    const box = document.getElementById("hist");
    try {
      const h = await DP.fetchJSON(apiBase(app) + "/hits?" + params(root).toString());
      const counts = h.series.length ? h.series[0].counts : h.times.map(() => 0);
      const max = Math.max(1, ...counts);
      box.textContent = "";
      h.times.forEach((t, i) => {
        const start = new Date(t);
        const end = new Date(start.getTime() + h.step * 1000);
        const n = counts[i] || 0;
        const bar = DP.el("button", n ? "" : "zero", null, {
          type: "button", title: DP.fmtCount(n) + " lines from " + DP.fmtTime(start) + " to " + DP.fmtTime(end) + " UTC",
          "aria-label": DP.fmtCount(n) + " lines from " + DP.fmtTime(start),
        });
        bar.style.height = (n ? Math.max(4, Math.round(100 * n / max)) : 2) + "%";
        bar.dataset.count = n;
        bar.addEventListener("click", () => {
          location.href = pageURL({ from: start.toISOString(), to: end.toISOString() });
        });
        box.append(bar);
      });
      document.getElementById("hist-from").textContent = DP.fmtTime(h.start) + " UTC";
      document.getElementById("hist-to").textContent = DP.fmtTime(h.end) + " UTC · " + DP.fmtCount(h.total) + " lines, a bar every " + fmtStep(h.step);
      root.dataset.total = h.total;
    } catch (e) {
      box.textContent = "";
      box.append(DP.el("p", "hint", "No histogram: " + e.message));
    }
  }

  function fmtStep(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return Math.round(s / 60) + " min";
    if (s < 86400) return Math.round(s / 3600) + " h";
    return Math.round(s / 86400) + " d";
  }

  // The facets narrow the search: source and dyno through their own parameters,
  // status and code as Heroku words in the query (status=503), which the archive
  // reads as the router line's fields.
  async function facets(root, app) {
    const box = document.getElementById("facets");
    const p = params(root);
    for (const f of ["source", "dyno", "status", "code"]) p.append("field", f);
    p.set("limit", "8");
    try {
      const data = await DP.fetchJSON(apiBase(app) + "/facets?" + p.toString());
      box.textContent = "";
      // On a phone the facets fold away under one line; elsewhere they are open.
      const fold = DP.el("details");
      fold.open = !window.matchMedia("(max-width: 700px)").matches;
      fold.append(DP.el("summary", "", "Narrow by app, source, dyno, status, code"));
      box.append(fold);
      fold.append(appFacet(root, app));
      for (const f of data.facets) {
        f.values = f.values.filter((v) => v.value !== "");
        if (!f.values.length) continue;
        fold.append(DP.el("h3", "", f.field));
        const ul = DP.el("ul");
        for (const v of f.values) {
          const active = isActive(root, f.field, v.value);
          const a = DP.el("a", "", null, { href: active ? narrowOff(root, f.field, v.value) : narrow(root, f.field, v.value) });
          if (active) a.setAttribute("aria-current", "true");
          a.title = (active ? "Stop narrowing by " : "Narrow to ") + f.field + " " + v.value;
          a.append(DP.el("span", "v", (active ? "× " : "") + v.value), DP.el("span", "n", DP.fmtCount(v.count)));
          const li = DP.el("li");
          li.append(a);
          ul.append(li);
        }
        if (f.other) ul.append(DP.el("li", "hint", "and " + DP.fmtCount(f.other) + " more"));
        fold.append(ul);
      }
    } catch (e) {
      box.textContent = "";
      box.append(DP.el("p", "hint", "No facets: " + e.message));
    }
  }

  // appFacet lists the apps; each link runs the same search on that app.
  function appFacet(root, app) {
    const frag = document.createDocumentFragment();
    const apps = [...document.querySelectorAll("#app-switch option")].map((o) => o.value);
    if (apps.length < 2) return frag;
    frag.append(DP.el("h3", "", "app"));
    const ul = DP.el("ul");
    for (const a of apps) {
      const link = DP.el("a", "", null, { href: pageURL({ app: a }) });
      if (a === app) link.setAttribute("aria-current", "true");
      link.append(DP.el("span", "v", a), DP.el("span", "n", a === app ? DP.fmtCount(+root.dataset.total || 0) : ""));
      const li = DP.el("li");
      li.append(link);
      ul.append(li);
    }
    frag.append(ul);
    return frag;
  }

  function term(field, value) {
    return field + "=" + (/^[\w.\-\/:]+$/.test(value) ? value : JSON.stringify(value));
  }

  function isActive(root, field, value) {
    if (field === "source" || field === "dyno") return root.dataset[field] === value;
    return (" " + root.dataset.q + " ").includes(" " + term(field, value) + " ");
  }

  function narrow(root, field, value) {
    if (field === "source" || field === "dyno") return pageURL({ [field]: value });
    const q = (root.dataset.q ? grouped(root.dataset.q) + " " : "") + term(field, value);
    return pageURL({ q });
  }

  // grouped puts q in parentheses when it has an OR outside them (the rule of
  // logsql/lex.OrOutside, which search links of alerts use): AND binds
  // tighter than OR in LogsQL, so `H12 OR H13 code=H13` would keep every H12 line.
  // Other queries stay as typed, and a query narrowed once is not wrapped again.
  function grouped(q) {
    let depth = 0;
    for (let i = 0; i < q.length; ) {
      const c = q[i];
      if (/\s/.test(c)) i++;
      else if (c === "(" || c === ")") { depth += c === "(" ? 1 : -1; i++; }
      else {
        const end = termEnd(q, i);
        if (depth <= 0 && q.slice(i, end).toLowerCase() === "or") return "(" + q + ")";
        i = end;
      }
    }
    return q;
  }

  // termEnd is the end of the term at q[i], as the server reads it: the first
  // space or ")" outside quotes and brackets; a quote opens only where a word
  // cannot go on (the apostrophe of don't is text).
  function termEnd(q, i) {
    let depth = 0, prev = "";
    while (i < q.length) {
      const c = q[i];
      if (depth === 0 && (/\s/.test(c) || c === ")")) return i;
      if ("\"'`".includes(c) && !/[\p{L}\p{N}_]/u.test(prev)) {
        let j = i + 1;
        while (j < q.length && q[j] !== c) j += q[j] === "\\" && c !== "`" ? 2 : 1;
        i = Math.min(j + 1, q.length);
        prev = c;
        continue;
      }
      if ("([{".includes(c)) depth++;
      else if (")]}".includes(c) && depth > 0) depth--;
      i++;
      prev = c;
    }
    return i;
  }

  function narrowOff(root, field, value) {
    if (field === "source" || field === "dyno") return pageURL({ [field]: "" });
    const q = (" " + root.dataset.q + " ").replace(" " + term(field, value) + " ", " ").trim();
    return pageURL({ q });
  }

  // pages fetches the lines a page at a time, the next when the end of the list
  // comes into view.
  function pages(root, app) {
    const more = document.getElementById("more");
    const summary = document.getElementById("summary");
    const base = params(root);
    base.set("limit", "200");
    if (root.dataset.order === "oldest") base.set("order", "oldest");
    let cursor = "", loading = false, done = false, shown = 0;
    // The sentinel ends the scrolling list: the next page loads as it comes near.
    const sentinel = DP.el("div", "sentinel", null, { "aria-hidden": "true" });
    results.append(sentinel);

    async function next() {
      if (loading || done) return;
      loading = true;
      more.textContent = "Loading…";
      const p = new URLSearchParams(base);
      if (cursor) p.set("cursor", cursor);
      try {
        const page = await DP.fetchJSON(apiBase(app) + "/search?" + p.toString());
        const frag = document.createDocumentFragment();
        for (const line of page.lines) frag.append(DP.lineRow(line));
        results.insertBefore(frag, sentinel);
        shown += page.lines.length;
        cursor = page.next || "";
        done = !cursor;
        summary.textContent = DP.fmtCount(shown) + (done ? "" : "+") + " lines, " +
          (root.dataset.order === "oldest" ? "oldest" : "newest") + " first";
        more.textContent = done ? (shown ? "End of the results." : "No lines match.") : "";
        root.dataset.shown = shown;
      } catch (e) {
        more.textContent = "The search failed: " + e.message;
        done = true;
      }
      loading = false;
      near();
    }
    // near loads the next page when the end of the list is within 400 px of
    // sight. The list scrolls in its own box on a wide screen, with the page on a
    // phone: what is in sight ends where the box or the window does.
    function near() {
      const sight = Math.min(results.getBoundingClientRect().bottom, window.innerHeight);
      if (!done && !loading && sentinel.getBoundingClientRect().top < sight + 400) next();
    }
    results.addEventListener("scroll", near, { passive: true });
    window.addEventListener("scroll", near, { passive: true });
    window.addEventListener("resize", near, { passive: true });
    next();
  }

  function rowDetails(app) {
    const open = (row) => {
      const next = row.nextElementSibling;
      if (next && next.classList.contains("detail")) { next.remove(); return; }
      row.after(DP.lineDetail(row.line));
    };
    results.addEventListener("click", (e) => {
      const row = e.target.closest(".row");
      if (row && !window.getSelection().toString()) open(row);
    });
    DP.rowKeys(results, open);
  }

  // runContext shows a line with the 50 lines before and after it in its app.
  async function runContext(root) {
    const id = root.dataset.id;
    const head = document.getElementById("context-head");
    try {
      const c = await DP.fetchJSON("/ui/api/lines/" + encodeURIComponent(id) + "/context?before=50&after=50");
      const frag = document.createDocumentFragment();
      for (const l of c.before) frag.append(DP.lineRow(l));
      const self = DP.lineRow(c.line);
      self.classList.add("hit");
      self.setAttribute("aria-current", "true");
      frag.append(self, DP.lineDetail(c.line));
      for (const l of c.after) frag.append(DP.lineRow(l));
      results.append(frag);
      self.scrollIntoView({ block: "center" });
      self.focus({ preventScroll: true });
      const t = new Date(c.line.time);
      const around = "/ui/search?" + new URLSearchParams({
        app: c.line.app,
        from: new Date(t.getTime() - 5 * 60000).toISOString(),
        to: new Date(t.getTime() + 5 * 60000).toISOString(),
        order: "oldest",
      }).toString();
      head.textContent = "";
      head.append(
        DP.el("strong", "", c.line.app), " · line " + id + " at " + DP.fmtTime(c.line.time) + " UTC, with the " +
        c.before.length + " lines before and " + c.after.length + " after it · ",
        DP.el("a", "", "search ±5 minutes", { href: around }), " · ",
        DP.el("a", "", "live tail", { href: "/ui/tail?app=" + encodeURIComponent(c.line.app) }),
      );
      root.dataset.loaded = "1";
      document.title = c.line.app + " · line " + id + " · drainpipe";
    } catch (e) {
      head.textContent = "Line " + id + ": " + e.message;
    }
    rowDetails("");
  }
})();
