package main

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/drainpipe/drainpipe/api"
)

// firTelemetry is what Heroku's Fir generation needs to send a drain's app's
// OpenTelemetry logs and metrics here: the OTLP/HTTP base endpoint (its exporter
// adds /v1/logs and /v1/metrics) and the header that carries the drain's secret.
type firTelemetry struct {
	App      string            `json:"app"`
	Drain    string            `json:"drain"`
	Endpoint string            `json:"endpoint"`
	Headers  map[string]string `json:"headers,omitempty"`
	Command  string            `json:"command"`
}

// telemetryFor derives the telemetry drain of d from its drain URL: the URL's
// secret becomes the x-drainpipe-token header. An existing drain's secret is not
// known any more: the command then holds a placeholder.
func telemetryFor(d api.Drain) (firTelemetry, error) {
	u, err := url.Parse(d.URL)
	if err != nil || u.Host == "" {
		return firTelemetry{}, fmt.Errorf("drain URL %q: %v", d.URL, err)
	}
	secret, _ := u.User.Password()
	u.User = nil
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/logs"), "/")
	t := firTelemetry{App: d.App, Drain: d.ID, Endpoint: u.String()}
	token := "SECRET"
	if secret != "" {
		token = secret
		t.Headers = map[string]string{"x-drainpipe-token": secret}
	}
	t.Command = fmt.Sprintf(`heroku telemetry:add %s --app %s --signals logs,metrics --transport http --headers '{"x-drainpipe-token":"%s"}'`,
		t.Endpoint, d.App, token)
	return t, nil
}

// printFir prints the `heroku telemetry:add` command for d.
func printFir(w io.Writer, d api.Drain, asJSON bool) error {
	t, err := telemetryFor(d)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, t)
	}
	if d.Existing {
		fmt.Fprintf(w, "%s already has drain %s. Its secret was shown once, when it was added, and is not stored.\n", d.App, d.ID)
		fmt.Fprintf(w, "With that secret in place of SECRET:\n  %s\n", t.Command)
		fmt.Fprintf(w, "For a new secret: drainpipe drains remove %s && drainpipe drains add %s --fir\n", d.App, d.App)
		return nil
	}
	fmt.Fprintf(w, "Give it to Heroku (the header holds the drain's secret: it is shown only now):\n  %s\n", t.Command)
	if !strings.HasPrefix(t.Endpoint, "https://") {
		fmt.Fprintf(w, "Note: Heroku needs a public HTTPS endpoint; run the server with --public-url https://... behind TLS.\n")
	}
	return nil
}
