package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The alert endpoints (bearer admin token, like every /api endpoint):
//
//	GET    /api/alerts                         every rule with its state ([]AlertStatus)
//	POST   /api/alerts            AlertRule    add a rule, or replace the API rule of that name (201 new, 200 replaced)
//	POST   /api/alerts?replace=false AlertRule add a rule only if no rule has its name, on any node (201; 409 otherwise)
//	GET    /api/alerts/{name}                  one rule (AlertStatus)
//	DELETE /api/alerts/{name}                  remove an API rule; its firing groups are resolved (AlertStatus before removal)
//	POST   /api/alerts/{name}/mute AlertMuteRequest  mute (or unmute with "for": "0s"); file rules too
//	POST   /api/alerts/{name}/test AlertTestRequest  backtest over stored lines, notifying no one (AlertBacktest)
//	GET    /api/alerts/{name}/history?limit=N  the rule's newest events, oldest first (AlertHistory)
//	GET    /api/alert-presets                  the Heroku presets ([]AlertPreset)
//
// Rules of the alerts file (source "file") answer 409 to POST and DELETE.

// AlertRule is an alert rule on the wire. Durations are Go durations ("1m", "90s").
// In a POST, Notify holds the destination URLs; in every answer they are redacted.
type AlertRule struct {
	Name      string     `json:"name"`
	App       string     `json:"app,omitempty"` // "" or "*": every app
	Kind      string     `json:"kind,omitempty"`
	Query     string     `json:"query,omitempty"`
	Preset    string     `json:"preset,omitempty"`
	Metric    string     `json:"metric,omitempty"`
	Agg       string     `json:"agg,omitempty"`
	Window    string     `json:"window,omitempty"`
	Threshold float64    `json:"threshold"`
	Below     bool       `json:"below,omitempty"`
	For       int        `json:"for,omitempty"`
	Recover   *float64   `json:"recover,omitempty"`
	GroupBy   []string   `json:"group_by,omitempty"`
	Renotify  string     `json:"renotify,omitempty"`
	Mute      *AlertMute `json:"mute,omitempty"`
	Notify    []string   `json:"notify"`
	// Source is "api" or "file"; Line is the rule's line in the alerts file.
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Condition describes the condition in words ("≥ 10 lines"); answers only.
	Condition string `json:"condition,omitempty"`
}

// AlertMute is a rule's configured quiet time.
type AlertMute struct {
	Until    *time.Time `json:"until,omitempty"`
	Daily    []string   `json:"daily,omitempty"` // "22:00-06:00"
	Timezone string     `json:"timezone,omitempty"`
}

// AlertStatus is a rule and what it is doing.
type AlertStatus struct {
	Rule    AlertRule `json:"rule"`
	Created time.Time `json:"created"`
	// State is the rule's worst group state: firing, pending, resolved or ok.
	State  string       `json:"state"`
	Groups []AlertGroup `json:"groups"`
	// LastWindow is the last window evaluated; Evaluated counts them.
	LastWindow  *AlertWindow `json:"last_window,omitempty"`
	Evaluated   int64        `json:"evaluated"`
	EvaluatedAt *time.Time   `json:"evaluated_at,omitempty"`
	// Waiting says why the next window is not evaluated yet (the archive lags).
	Waiting string `json:"waiting,omitempty"`
	// Excess counts the groups of the last window over the cap of 100.
	Excess     int        `json:"excess,omitempty"`
	Muted      bool       `json:"muted"`
	MutedUntil *time.Time `json:"muted_until,omitempty"`
	// LastError is the evaluation's error, while it fails.
	LastError    string         `json:"last_error,omitempty"`
	LastErrorAt  *time.Time     `json:"last_error_at,omitempty"`
	LastDelivery *AlertDelivery `json:"last_delivery,omitempty"`
	// Outbox lists the notifications waiting for delivery.
	Outbox    []AlertPending `json:"outbox,omitempty"`
	Delivered int64          `json:"delivered"`
	Failed    int64          `json:"failed"`
	Dropped   int64          `json:"dropped"`
	// SearchURL opens the rule's search (or graph) over its current incident or last
	// window in the UI; "" before the first window.
	SearchURL string `json:"search_url,omitempty"`
	// Replaced is set in the answer to a POST that replaced a rule of that name.
	Replaced bool `json:"replaced,omitempty"`
}

// AlertGroup is one group of a rule.
type AlertGroup struct {
	Label        string     `json:"label"` // "code=H12,dyno=web.1"; "" without group_by
	Values       []string   `json:"values,omitempty"`
	State        string     `json:"state"`
	Value        float64    `json:"value"`
	NoData       bool       `json:"no_data,omitempty"`
	Streak       int        `json:"streak,omitempty"`
	Since        time.Time  `json:"since"`
	FiringSince  *time.Time `json:"firing_since,omitempty"`
	LastNotified *time.Time `json:"last_notified,omitempty"`
}

// AlertWindow is an evaluation window, [start, end) of line time.
type AlertWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AlertDelivery is the last delivery attempt of a rule.
type AlertDelivery struct {
	Time           time.Time `json:"time"`
	Destination    string    `json:"destination"`
	Event          string    `json:"event"`
	NotificationID string    `json:"notification_id"`
	OK             bool      `json:"ok"`
	Error          string    `json:"error,omitempty"`
	Attempts       int       `json:"attempts"`
}

// AlertPending is a notification waiting for delivery.
type AlertPending struct {
	Destination string    `json:"destination"`
	Event       string    `json:"event"`
	Group       string    `json:"group,omitempty"`
	Queued      time.Time `json:"queued"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"next_attempt"`
	LastError   string    `json:"last_error,omitempty"`
}

// AlertEvent is one event of a rule's history: pending, firing, resolved,
// renotify, muted, mute, delivered, failed, gave_up, dropped, over_cap, error,
// skipped, rule_changed, rule_removed.
type AlertEvent struct {
	Time        time.Time    `json:"time"`
	Type        string       `json:"type"`
	Window      *AlertWindow `json:"window,omitempty"`
	Group       string       `json:"group,omitempty"`
	Value       *float64     `json:"value,omitempty"`
	Destination string       `json:"destination,omitempty"`
	Detail      string       `json:"detail,omitempty"`
}

// AlertHistory is the answer of the history endpoint.
type AlertHistory struct {
	Rule   string       `json:"rule"`
	Events []AlertEvent `json:"events"`
}

// AlertMuteRequest mutes a rule for a duration ("2h"; "0s" unmutes) or until a time.
type AlertMuteRequest struct {
	For   string     `json:"for,omitempty"`
	Until *time.Time `json:"until,omitempty"`
}

// AlertTestRequest asks for a backtest from Since (as ParseTime reads a start:
// "24h", "7d", "yesterday", an RFC 3339 time) to the last window ready now.
type AlertTestRequest struct {
	Since string `json:"since"`
}

// AlertBacktest is what a rule would have done.
type AlertBacktest struct {
	Rule        string               `json:"rule"`
	From        time.Time            `json:"from"`
	To          time.Time            `json:"to"`
	Windows     int                  `json:"windows"`
	Events      []AlertBacktestEvent `json:"events"`
	Fired       int                  `json:"fired"`
	Resolved    int                  `json:"resolved"`
	StillFiring []string             `json:"still_firing"`
}

// AlertBacktestEvent is one transition of a backtest: pending, firing, muted (a
// firing a mute would have held back), renotify, resolved.
type AlertBacktestEvent struct {
	Window AlertWindow `json:"window"`
	Group  string      `json:"group,omitempty"`
	Event  string      `json:"event"`
	Value  float64     `json:"value"`
	NoData bool        `json:"no_data,omitempty"`
}

// AlertPreset is a Heroku preset (--preset NAME).
type AlertPreset struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Query       string   `json:"query"`
	Threshold   float64  `json:"threshold"`
	GroupBy     []string `json:"group_by,omitempty"`
}

// CreateAlert adds a rule only if no rule of its name exists, atomically across
// a cluster's nodes; a name taken is answered 409.
func (c *Client) CreateAlert(ctx context.Context, r AlertRule) (st AlertStatus, err error) {
	err = c.do(ctx, http.MethodPost, "/api/alerts?replace=false", r, &st)
	return st, err
}

func alertPath(name string) string { return "/api/alerts/" + url.PathEscape(name) }

// AddAlert adds a rule, or replaces the API rule of the same name (Replaced set).
func (c *Client) AddAlert(ctx context.Context, r AlertRule) (st AlertStatus, err error) {
	err = c.do(ctx, http.MethodPost, "/api/alerts", r, &st)
	return st, err
}

// Alerts lists every rule with its state.
func (c *Client) Alerts(ctx context.Context) ([]AlertStatus, error) {
	var out []AlertStatus
	err := c.do(ctx, http.MethodGet, "/api/alerts", nil, &out)
	return out, err
}

// Alert returns one rule with its state.
func (c *Client) Alert(ctx context.Context, name string) (AlertStatus, error) {
	var st AlertStatus
	err := c.do(ctx, http.MethodGet, alertPath(name), nil, &st)
	return st, err
}

// RemoveAlert removes an API rule and returns its last status.
func (c *Client) RemoveAlert(ctx context.Context, name string) (AlertStatus, error) {
	var st AlertStatus
	err := c.do(ctx, http.MethodDelete, alertPath(name), nil, &st)
	return st, err
}

// MuteAlert mutes a rule.
func (c *Client) MuteAlert(ctx context.Context, name string, req AlertMuteRequest) (AlertStatus, error) {
	var st AlertStatus
	err := c.do(ctx, http.MethodPost, alertPath(name)+"/mute", req, &st)
	return st, err
}

// TestAlert backtests a rule.
func (c *Client) TestAlert(ctx context.Context, name string, req AlertTestRequest) (AlertBacktest, error) {
	var bt AlertBacktest
	err := c.do(ctx, http.MethodPost, alertPath(name)+"/test", req, &bt)
	return bt, err
}

// AlertHistory returns a rule's newest limit events (all kept when 0).
func (c *Client) AlertHistory(ctx context.Context, name string, limit int) (AlertHistory, error) {
	var h AlertHistory
	err := c.do(ctx, http.MethodGet, alertPath(name)+"/history?limit="+strconv.Itoa(limit), nil, &h)
	return h, err
}

// AlertPresets lists the Heroku presets.
func (c *Client) AlertPresets(ctx context.Context) ([]AlertPreset, error) {
	var out []AlertPreset
	err := c.do(ctx, http.MethodGet, "/api/alert-presets", nil, &out)
	return out, err
}
