package cwlemu

import (
	"fmt"
	"strings"
)

const (
	maxNameLen         = 512
	groupNamePattern   = `[\.\-_/#A-Za-z0-9]+`
	streamNamePattern  = `[^:*]*`
	reservedGroupStart = "aws/"
)

// checkGroupName adds the violations of a log group name at member; the first failed
// constraint is the one reported, as one per member keeps the texts predictable.
func checkGroupName(v *violations, name, member string) {
	if checkLength(v, name, member, 1, maxNameLen) {
		return
	}
	for _, c := range name {
		if !groupNameChar(c) {
			v.add(name, member, "Member must satisfy regular expression pattern: "+groupNamePattern)
			return
		}
	}
}

func groupNameChar(c rune) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.ContainsRune(".-_/#", c)
}

// checkStreamName adds the violations of a log stream name at member.
func checkStreamName(v *violations, name, member string) {
	if checkLength(v, name, member, 1, maxNameLen) {
		return
	}
	if strings.ContainsAny(name, ":*") {
		v.add(name, member, "Member must satisfy regular expression pattern: "+streamNamePattern)
	}
}

// checkLength adds a violation when s (counted in characters) is outside [lo, hi]
// and reports whether it did.
func checkLength(v *violations, s, member string, lo, hi int) bool {
	n := len([]rune(s))
	switch {
	case n < lo:
		v.add(s, member, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	case n > hi:
		v.add(s, member, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	default:
		return false
	}
	return true
}

// checkLimit adds a violation when a paging limit is outside [1, hi]; nil means unset.
func checkLimit(v *violations, limit *int32, hi int32) {
	switch {
	case limit == nil:
	case *limit < 1:
		v.add(fmt.Sprint(*limit), "limit", "Member must have value greater than or equal to 1")
	case *limit > hi:
		v.add(fmt.Sprint(*limit), "limit", fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
}

// groupFromIdentifier resolves a logGroupIdentifier, which is a name or an ARN
// (arn:aws:logs:REGION:ACCOUNT:log-group:NAME, with or without a trailing ":*").
func groupFromIdentifier(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	_, name, ok := strings.Cut(id, ":log-group:")
	if !ok {
		return id
	}
	return strings.TrimSuffix(name, ":*")
}
