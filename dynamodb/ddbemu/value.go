package ddbemu

import (
	"bytes"
	"encoding/json"
	"math/big"
	"regexp"
	"slices"
)

// value is an AttributeValue as it travels: exactly one member set.
type value struct {
	S    *string           `json:"S,omitempty"`
	N    *string           `json:"N,omitempty"`
	B    []byte            `json:"B,omitempty"`
	BOOL *bool             `json:"BOOL,omitempty"`
	NULL *bool             `json:"NULL,omitempty"`
	M    map[string]*value `json:"M,omitempty"`
	L    []*value          `json:"L,omitempty"`
	SS   []string          `json:"SS,omitempty"`
	NS   []string          `json:"NS,omitempty"`
	BS   [][]byte          `json:"BS,omitempty"`
}

// UnmarshalJSON keeps apart a member absent and a member present but empty
// ("L": [] is a value; no member at all is not).
func (v *value) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	type plain value
	if err := json.Unmarshal(b, (*plain)(v)); err != nil {
		return err
	}
	if _, ok := raw["L"]; ok && v.L == nil {
		v.L = []*value{}
	}
	if _, ok := raw["M"]; ok && v.M == nil {
		v.M = map[string]*value{}
	}
	return nil
}

// kind is the type descriptor of the one member set ("S", "N", ...), or why not.
func (v *value) kind() (string, error) {
	var set []string
	for _, m := range []struct {
		name string
		on   bool
	}{{"S", v.S != nil}, {"N", v.N != nil}, {"B", v.B != nil}, {"BOOL", v.BOOL != nil}, {"NULL", v.NULL != nil},
		{"M", v.M != nil}, {"L", v.L != nil}, {"SS", v.SS != nil}, {"NS", v.NS != nil}, {"BS", v.BS != nil}} {
		if m.on {
			set = append(set, m.name)
		}
	}
	switch len(set) {
	case 0:
		return "", validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case 1:
		return set[0], nil
	}
	return "", validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
}

// numberRe is DynamoDB's number: up to 38 significant digits, a decimal exponent.
var numberRe = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// check validates v and everything in it, as the service does on a write.
func (v *value) check() error {
	k, err := v.kind()
	if err != nil {
		return err
	}
	switch k {
	case "N":
		return checkNumber(*v.N)
	case "NULL":
		if !*v.NULL {
			return validation("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
	case "SS", "NS", "BS":
		return v.checkSet(k)
	case "M":
		for _, e := range v.M {
			if err := e.check(); err != nil {
				return err
			}
		}
	case "L":
		for _, e := range v.L {
			if err := e.check(); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkNumber(n string) error {
	if !numberRe.MatchString(n) {
		return validation("A value provided cannot be converted into a number")
	}
	if _, ok := new(big.Rat).SetString(n); !ok {
		return validation("A value provided cannot be converted into a number")
	}
	return nil
}

func (v *value) checkSet(k string) error {
	n := len(v.SS) + len(v.NS) + len(v.BS)
	if n == 0 {
		return validation("One or more parameter values were invalid: An number set  may not be empty")
	}
	seen := map[string]bool{}
	for i := range n {
		var key string
		switch k {
		case "SS":
			key = v.SS[i]
		case "NS":
			if err := checkNumber(v.NS[i]); err != nil {
				return err
			}
			r, _ := new(big.Rat).SetString(v.NS[i])
			key = r.RatString()
		case "BS":
			key = string(v.BS[i])
		}
		if seen[key] {
			return validation("One or more parameter values were invalid: Input collection contains duplicates")
		}
		seen[key] = true
	}
	return nil
}

// size is the value's size as DynamoDB counts it towards the 400 KB item limit
// (close enough: names plus the bytes of the values).
func (v *value) size() int {
	switch {
	case v.S != nil:
		return len(*v.S)
	case v.N != nil:
		return (len(*v.N)+1)/2 + 1
	case v.B != nil:
		return len(v.B)
	case v.M != nil:
		n := 3
		for k, e := range v.M {
			n += len(k) + e.size() + 1
		}
		return n
	case v.L != nil:
		n := 3
		for _, e := range v.L {
			n += e.size() + 1
		}
		return n
	}
	n := 1
	for _, s := range v.SS {
		n += len(s)
	}
	for _, s := range v.NS {
		n += len(s)
	}
	for _, b := range v.BS {
		n += len(b)
	}
	return n
}

// text is the value as the tests read it: strings and numbers as they are,
// other kinds as their JSON.
func (v *value) text() string {
	switch {
	case v.S != nil:
		return *v.S
	case v.N != nil:
		return *v.N
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// equal is the = of condition expressions: same type and same value (sets in
// any order, numbers by value).
func equal(a, b *value) bool {
	ka, _ := a.kind()
	kb, _ := b.kind()
	if ka != kb {
		return false
	}
	switch ka {
	case "N":
		c, _ := compare(a, b)
		return c == 0
	case "SS":
		return sameSet(a.SS, b.SS, func(s string) string { return s })
	case "NS":
		return sameSet(a.NS, b.NS, func(s string) string { r, _ := new(big.Rat).SetString(s); return r.RatString() })
	case "BS":
		return sameSet(a.BS, b.BS, func(s []byte) string { return string(s) })
	case "M":
		if len(a.M) != len(b.M) {
			return false
		}
		for k, e := range a.M {
			if o, ok := b.M[k]; !ok || !equal(e, o) {
				return false
			}
		}
		return true
	case "L":
		return slices.EqualFunc(a.L, b.L, equal)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func sameSet[T any](a, b []T, key func(T) string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[key(x)] = true
	}
	for _, x := range b {
		if !m[key(x)] {
			return false
		}
	}
	return true
}

// compare orders two scalars of one type (N by value, S and B by bytes); ok is
// false for any other pair, which makes <, <=, >, >= and BETWEEN false.
func compare(a, b *value) (int, bool) {
	switch {
	case a.N != nil && b.N != nil:
		x, ok1 := new(big.Rat).SetString(*a.N)
		y, ok2 := new(big.Rat).SetString(*b.N)
		if !ok1 || !ok2 {
			return 0, false
		}
		return x.Cmp(y), true
	case a.S != nil && b.S != nil:
		return bytes.Compare([]byte(*a.S), []byte(*b.S)), true
	case a.B != nil && b.B != nil:
		return bytes.Compare(a.B, b.B), true
	}
	return 0, false
}
