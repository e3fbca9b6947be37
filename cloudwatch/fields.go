package cloudwatch

import "github.com/drainpipe/drainpipe/logfmt"

// maxFields bounds the fields lifted out of one message, so a line of many words
// does not become an object of many keys.
const maxFields = 100

// fields are the key=value pairs of a logfmt message, for the JSON format. Bare
// words and empty values are left out (free text would turn every word into a
// key), and a repeated key keeps its first value, so the object's keys are unique.
func fields(msg string) [][2]string {
	var out [][2]string
	logfmt.Scan(msg, func(key, value string) bool {
		if value == "" {
			return true
		}
		for _, f := range out {
			if f[0] == key {
				return true
			}
		}
		out = append(out, [2]string{key, value})
		return len(out) < maxFields
	})
	return out
}
