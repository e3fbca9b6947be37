// Package ui is drainpipe's web UI: live tail, search, metrics, drains, alerts and
// the server's state, as server-rendered html/template pages with a little plain
// JavaScript and one vendored library (uPlot, MIT, for the graphs). Everything is
// embedded in the binary; there is no build step.
//
// # Pages and their URLs
//
// Every page is its URL, so it can be bookmarked, shared and linked to (the alert
// notifications link to the search and metrics pages):
//
//	/ui/tail?app=APP[&q=QUERY][&source=app|heroku][&dyno=web|web.1]
//	/ui/search?app=APP[&q=QUERY][&from=WHEN][&to=WHEN][&order=newest|oldest][&source=][&dyno=]
//	/ui/lines/ID                      a line and the 50 lines before and after it in its app (its permalink)
//	/ui/metrics?app=APP[&from=WHEN][&to=WHEN][&name=SERIES[&source=DYNO]]
//	/ui/drains, /ui/drains/APP/remove
//	/ui/alerts, /ui/alerts/NAME
//	/ui/system
//
// QUERY is the archive's query language (LogsQL, with the words Heroku users type:
// H12, status=5xx, web.1, "Request timeout"; see package logsql). WHEN is what the
// CLI's --since and --until take: a duration ago (15m, 24h, 7d), a date, an RFC 3339
// time (UTC when it has no zone), today or yesterday; from defaults to 1h and to to
// now. GET / redirects to /ui/, which opens the live tail of the app with the newest
// line.
//
// # The UI is a client of the admin API
//
// Pages are rendered from the admin API (package api's client) served in-process:
// Config.API is the httpd server, which trusts the UI's requests (httpd.AsAdmin)
// because the UI authenticated the user itself. The pages' scripts call the same
// API under /ui/api/..., with the session standing for the admin token. So the UI
// sees exactly what the CLI sees, and a new endpoint is usable at once.
//
// # Security
//
// The drain port faces the internet, and log lines are written by whoever can
// reach an app. Hence:
//
//   - Every page and data endpoint needs a session; without one, a page answers
//     with a redirect to the login page and data with a 401, and neither carries
//     data. Logging in takes the admin token (compared as SHA-256 hashes in
//     constant time) or a name and password from --ui-users (bcrypt; an unknown name
//     costs a bcrypt comparison too). Attempts are limited per client address
//     (a burst of 10, then one every 6 s; behind a proxy, its address is everyone's:
//     forwarded headers are not trusted).
//   - Sessions live in memory (a restart logs everyone out): a random 256-bit id in
//     an HttpOnly, SameSite=Strict cookie, Secure and named __Host-… when the UI's
//     public URL is https; they end after Config.SessionTTL, or IdleTimeout without
//     a request. At most 10,000 are kept. The users file is read again when it
//     changes: the sessions of a user it no longer lists, or lists with another
//     password, end there (an open live tail at its next poll).
//   - Every change (a form or a script's request) needs the session's CSRF token,
//     and a browser's cross-origin request is refused first (Go's
//     http.CrossOriginProtection: Sec-Fetch-Site, else Origin against Host).
//   - A strict Content-Security-Policy (default-src 'self', no inline script or
//     style), X-Frame-Options DENY, nosniff, no-store. Templates escape every value;
//     the scripts put log text in the page with textContent only.
//
// # The live tail
//
// /ui/stream is Server-Sent Events: one event per line whose id is the line's id,
// so a browser that reconnects sends Last-Event-ID and resumes after it, losing and
// repeating nothing (the lines shown when the tail opens are history and carry no
// id). Filters are the admin API's follow filters. The stream sends a heartbeat
// every 15 s, says X-Accel-Buffering: no, and sends at most Config.TailRate lines a
// second (bursts of three seconds' worth pass): above that it sends an even sample
// and says so in a "stats" event that the page shows. The page draws in batches per
// animation frame and keeps the newest 5,000 rows.
package ui
