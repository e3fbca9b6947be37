package main

import (
	"os"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/alert"
)

// readmeBlock returns the first ``` block of kind lang after the heading that
// starts with heading in the README.
func readmeBlock(t *testing.T, heading, lang string) string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(raw), "\n"+heading)
	if !ok {
		t.Fatalf("README: no heading %q", heading)
	}
	_, block, ok := strings.Cut(after, "\n```"+lang+"\n")
	if !ok {
		t.Fatalf("README: no ```%s block after %q", lang, heading)
	}
	block, _, ok = strings.Cut(block, "\n```")
	if !ok {
		t.Fatalf("README: the ```%s block after %q does not end", lang, heading)
	}
	return block + "\n"
}

// The README's rules file is what a user copies first: it must load as it is
// (it did not: a ${VAR} in a YAML flow sequence unquoted).
func TestREADMEAlertsFileLoads(t *testing.T) {
	env := map[string]string{
		"SLACK_HOOK":     "T000/B000/XXXX",
		"PD_ROUTING_KEY": "0123456789abcdef0123456789abcdef",
		"SMTP_PASSWORD":  "pw",
	}
	rules, err := alert.ParseFile("README.md", []byte(readmeBlock(t, "### Rules as code", "yaml")), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("the README's alerts.yaml: %v", err)
	}
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "h12,router-errors,nightly-export" {
		t.Errorf("the README's alerts.yaml holds rules %v", names)
	}
}
