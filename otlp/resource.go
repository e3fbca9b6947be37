package otlp

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Resource attributes that name where a record comes from, in the order they are
// tried. Heroku's own names come first; the OpenTelemetry semantic conventions'
// after them.
var (
	dynoKeys = []string{"heroku.dyno", "heroku.dyno.name", "dyno", "service.instance.id", "heroku.process.type"}
	hostKeys = []string{"host.name", "host.id", "cloud.availability_zone", "cloud.region"}
)

// origin is what a resource says about the records under it.
type origin struct {
	source, dyno, host string
	// foreignApp is the heroku.app.name of a resource that names another app than
	// the drain's.
	foreignApp string
	// rest are the resource attributes that no record field holds, as text.
	rest []kv
}

type kv struct{ k, v string }

// readResource maps a resource's attributes to a record's source, dyno and host for
// a drain of app. Attributes that become fields exactly are not repeated in rest.
func readResource(res pcommon.Resource, app string) origin {
	attrs := res.Attributes()
	var o origin
	used := map[string]bool{}
	str := func(k string) string {
		if v, ok := attrs.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	service := str("service.name")
	o.source = "app"
	if service == "heroku" || strings.HasPrefix(service, "heroku-") {
		o.source = "heroku"
		o.dyno = strings.TrimPrefix(strings.TrimPrefix(service, "heroku"), "-")
	}
	if service == app {
		used["service.name"] = true
	}
	if k, v := first(attrs, dynoKeys); k != "" {
		o.dyno, used[k] = v, true
	}
	if k, v := first(attrs, hostKeys); k != "" {
		o.host, used[k] = v, true
	}
	switch name := str("heroku.app.name"); name {
	case "":
	case app:
		used["heroku.app.name"] = true
	default:
		o.foreignApp = name
	}
	for k, v := range attrs.All() {
		if used[k] {
			used[k] = false // only its first occurrence became a field
			continue
		}
		o.rest = append(o.rest, kv{k, v.AsString()})
	}
	return o
}

// first returns the first of keys that attrs holds with a value that is not empty.
func first(attrs pcommon.Map, keys []string) (string, string) {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if s := v.AsString(); s != "" {
				return k, s
			}
		}
	}
	return "", ""
}
