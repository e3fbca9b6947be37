package notify_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/drainpipe/drainpipe/alert/notify"
)

// FuzzOpen: any string opens as a destination or is refused; neither the error nor
// the destination's name ever holds the URL's password, routing key, signing secret
// or a webhook path's tokens.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"slack+https://hooks.slack.com/services/T000/B000/XXXXSECRET",
		"slack+http://127.0.0.1:8080/services/a/b/c",
		"pagerduty://abcdef0123456789abcdef0123456789?severity=warning",
		"webhook+https://ops.example.com/hooks/catch/123/abcSECRET?x=1#secret=s3cr3tvalue",
		"webhook+http://10.0.0.1:9000/in",
		"smtp://user:p%40ssword@mail.example.com:587/?to=a@example.com,b@example.com&from=c@example.com",
		"smtps://mail.example.com/?to=a@example.com&from=c@example.com",
		"smtp://relay:25/?to=a@example.com&from=c@example.com&tls=none",
		"", "://", "slack+https://", "pagerduty://", "webhook+https://%zz", "smtp://:@/?to=&from=",
	} {
		f.Add(s)
	}
	o, err := notify.NewOpener(notify.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := o.Open(raw)
		var shown string
		if err != nil {
			shown = err.Error()
		} else {
			shown = d.String()
		}
		for _, sec := range secretsOf(raw) {
			if len(sec) >= 6 && strings.Contains(shown, sec) {
				t.Fatalf("%q shows %q as %q", raw, sec, shown)
			}
		}
	})
}

// secretsOf lists what a destination URL holds that must not be shown.
func secretsOf(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || !strings.Contains(raw, "://") {
		return nil // not a URL a destination could be opened from
	}
	var out []string
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	if v, err := url.ParseQuery(u.Fragment); err == nil {
		out = append(out, v.Get("secret"))
	}
	switch {
	case strings.HasPrefix(raw, "pagerduty://") && len(u.Host) > 4:
		out = append(out, u.Host)
	case strings.HasPrefix(raw, "slack+"), strings.HasPrefix(raw, "webhook+"):
		parts := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 2)
		switch {
		case len(parts) == 2 && parts[1] != "" && !strings.Contains(parts[0], parts[1]):
			out = append(out, parts[1])
		case len(parts) == 1:
			out = append(out, parts[0]) // a lone segment may be the token
		}
		out = append(out, u.RawQuery)
	}
	return out
}
