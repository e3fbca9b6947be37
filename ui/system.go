package ui

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

type systemView struct {
	Info SystemInfo
	// Uptime is how long the server has run.
	Uptime string
	// JournalBytes and JournalMessages are what the journal holds now.
	JournalBytes, JournalMessages float64
	JournalFull, JournalFailed    float64
	// ArchiveBytes is the archive's size on disk, ArchiveRows the rows it holds.
	ArchiveBytes, ArchiveRows float64
	// Pruned counts the lines retention deleted, by reason (age, disk).
	Pruned []countRow
	Sinks  []sinkState
	// Received counts what the drains brought: requests by answer, lines, bytes.
	Requests              []countRow
	Lines, Malformed      float64
	Bytes, Duplicates     float64
	BadTimestamps         float64
	Syslog                []countRow
	Rejected              []countRow
	SessionCount, Streams int
}

// countRow is one labelled number of a table.
type countRow struct {
	Label string
	Value float64
	// Bad marks a number that means something was refused or lost.
	Bad bool
}

// systemPage shows the server's state: GET /ui/system. It reads the Prometheus
// registry, the same numbers /metrics exports.
func (h *Handler) systemPage(w http.ResponseWriter, r *http.Request, s *session) {
	g := gather(h.cfg.Gatherer)
	v := h.newView(r, s, "system", "System")
	sv := systemView{Info: h.cfg.System, Sinks: sinkStates(g), SessionCount: h.sessions.count(), Streams: int(h.openStreams.Load())}
	if !h.cfg.System.Started.IsZero() {
		sv.Uptime = shortDuration(h.cfg.Now().Sub(h.cfg.System.Started).Round(time.Second))
	}
	sv.JournalBytes, _ = g.value("drainpipe_journal_bytes")
	sv.JournalMessages, _ = g.value("drainpipe_journal_messages")
	sv.JournalFull, _ = g.value("drainpipe_journal_full_total")
	sv.JournalFailed, _ = g.value("drainpipe_journal_unavailable_total")
	sv.ArchiveBytes, _ = g.value("drainpipe_archive_disk_bytes")
	sv.ArchiveRows, _ = g.value("drainpipe_archive_rows")
	pruned := g.by("drainpipe_archive_rows_pruned_total", "reason")
	for _, reason := range slices.Sorted(maps.Keys(pruned)) {
		sv.Pruned = append(sv.Pruned, countRow{Label: reason, Value: pruned[reason], Bad: reason == "disk" && pruned[reason] > 0})
	}
	sv.Lines, _ = g.value("drainpipe_receiver_lines_total")
	sv.Malformed, _ = g.value("drainpipe_receiver_malformed_lines_total")
	sv.Bytes, _ = g.value("drainpipe_receiver_bytes_total")
	sv.Duplicates, _ = g.value("drainpipe_receiver_duplicate_batches_total")
	sv.BadTimestamps, _ = g.value("drainpipe_receiver_bad_timestamps_total")
	byCode := g.by("drainpipe_receiver_requests_total", "code")
	for _, code := range slices.Sorted(maps.Keys(byCode)) {
		n, _ := strconv.Atoi(code)
		sv.Requests = append(sv.Requests, countRow{Label: code + " " + http.StatusText(n), Value: byCode[code], Bad: n >= 400})
	}
	sv.Syslog = syslogRows(g)
	sv.Rejected = rejectedRows(g)
	v.Data = sv
	h.pages.render(w, http.StatusOK, "system", v)
}

func syslogRows(g gathered) []countRow {
	var out []countRow
	for _, m := range []struct{ name, label string }{
		{"drainpipe_syslog_connections_open", "connections open"},
		{"drainpipe_syslog_connections_total", "connections"},
		{"drainpipe_syslog_lines_total", "lines"},
	} {
		if v, ok := g.value(m.name); ok {
			out = append(out, countRow{Label: m.label, Value: v})
		}
	}
	return out
}

// rejectedRows are the lines and batches drainpipe refused or could not deliver,
// each with its reason.
func rejectedRows(g gathered) []countRow {
	var out []countRow
	add := func(label string, v float64) { out = append(out, countRow{Label: label, Value: v, Bad: v > 0}) }
	byCode := g.by("drainpipe_receiver_requests_total", "code")
	for _, code := range slices.Sorted(maps.Keys(byCode)) {
		if n, _ := strconv.Atoi(code); n >= 400 {
			add("drain requests answered "+code+" "+http.StatusText(n), byCode[code])
		}
	}
	if v, ok := g.value("drainpipe_journal_full_total"); ok {
		add("batches refused: journal full (503, retried by Heroku)", v)
	}
	if v, ok := g.value("drainpipe_journal_unavailable_total"); ok {
		add("batches refused: journal unavailable (503, retried by Heroku)", v)
	}
	for _, k := range []struct{ name, label string }{
		{"drainpipe_syslog_unknown_token_lines_total", "syslog lines with an unknown drain token (not stored)"},
		{"drainpipe_syslog_lost_lines_total", "syslog lines lost to a broken connection"},
		{"drainpipe_metrics_series_dropped_total", "metric samples over the series cap (not kept)"},
	} {
		if v, ok := g.value(k.name); ok {
			add(k.label, v)
		}
	}
	rejected := g.by("drainpipe_sink_rejected_lines_total", "reason")
	for _, reason := range slices.Sorted(maps.Keys(rejected)) {
		for _, sink := range g.labelValues("drainpipe_sink_rejected_lines_total", "sink") {
			if v, ok := g.value("drainpipe_sink_rejected_lines_total", "sink", sink, "reason", reason); ok {
				add(sink+" refused lines: "+reason, v)
			}
		}
	}
	if v, ok := g.value("drainpipe_archive_rows_pruned_total", "reason", "disk"); ok {
		add("archive lines deleted before their retention: the archive reached its disk cap", v)
	}
	if v, ok := g.value("drainpipe_heroku_dropped_lines_total"); ok {
		add("lines Heroku reported it dropped before sending", v)
	}
	return out
}
