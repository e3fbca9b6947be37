package ddbemu

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A condition expression, parsed: AWS's grammar of comparisons, BETWEEN, IN,
// the functions, NOT, AND, OR and parentheses, over document paths and
// expression attribute values.

const (
	maxExpression = 4096 // bytes
	maxDepth      = 50   // nesting; the service's own limit is not documented
)

type condition interface {
	eval(item map[string]*value) bool
}

type operand interface {
	value(item map[string]*value) (*value, bool)
}

// exprContext is what parsing needs: the placeholders, and which were used.
type exprContext struct {
	names     map[string]string
	values    map[string]*value
	usedNames map[string]bool
	usedVals  map[string]bool
}

// parseCondition parses a ConditionExpression with its placeholders.
func parseCondition(expr string, c *exprContext) (condition, error) {
	if len(expr) > maxExpression {
		return nil, validation("Invalid ConditionExpression: Expression size has exceeded the maximum allowed size")
	}
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, c: c}
	cond, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEnd {
		return nil, p.syntax()
	}
	return cond, nil
}

// unused reports placeholders given but not used, which the service refuses.
func (c *exprContext) unused() error {
	var names, vals []string
	for k := range c.names {
		if !c.usedNames[k] {
			names = append(names, k)
		}
	}
	for k := range c.values {
		if !c.usedVals[k] {
			vals = append(vals, k)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {" + strings.Join(names, ", ") + "}")
	}
	if len(vals) > 0 {
		slices.Sort(vals)
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {" + strings.Join(vals, ", ") + "}")
	}
	return nil
}

type tokKind int

const (
	tEnd tokKind = iota
	tName
	tNamePH  // #name
	tValuePH // :value
	tNumber  // a list index
	tOp      // = <> < <= > >=
	tPunct   // ( ) , . [ ]
)

type token struct {
	kind tokKind
	text string
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.ContainsRune("(),.[]", rune(c)):
			toks = append(toks, token{tPunct, s[i : i+1]})
			i++
		case c == '=':
			toks = append(toks, token{tOp, "="})
			i++
		case c == '<' || c == '>':
			j := i + 1
			if j < len(s) && (s[j] == '=' || c == '<' && s[j] == '>') {
				j++
			}
			toks = append(toks, token{tOp, s[i:j]})
			i = j
		case c == '#' || c == ':':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, syntaxAt(s[i:i+1], s[i:])
			}
			k := tNamePH
			if c == ':' {
				k = tValuePH
			}
			toks = append(toks, token{k, s[i:j]})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, token{tNumber, s[i:j]})
			i = j
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			toks = append(toks, token{tName, s[i:j]})
			i = j
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, syntaxAt(string(r), s[i:])
		}
	}
	return append(toks, token{kind: tEnd}), nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func syntaxAt(tok, near string) error {
	if len(near) > 20 {
		near = near[:20]
	}
	return validation(fmt.Sprintf("Invalid ConditionExpression: Syntax error; token: %q, near: %q", tok, near))
}

type parser struct {
	toks []token
	pos  int
	c    *exprContext
}

func (p *parser) peek() token { return p.toks[p.pos] }
func (p *parser) next() token { t := p.toks[p.pos]; p.pos = min(p.pos+1, len(p.toks)-1); return t }

func (p *parser) syntax() error {
	t := p.peek()
	if t.kind == tEnd {
		return validation("Invalid ConditionExpression: Syntax error; token: <EOF>, near: end of expression")
	}
	return syntaxAt(t.text, t.text)
}

// keyword reports whether the next token is the (case-insensitive) keyword kw.
func (p *parser) keyword(kw string) bool {
	t := p.peek()
	return t.kind == tName && strings.EqualFold(t.text, kw)
}

func (p *parser) punct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) expect(s string) error {
	if !p.punct(s) {
		return p.syntax()
	}
	p.next()
	return nil
}

func (p *parser) or(depth int) (condition, error) {
	left, err := p.and(depth)
	for err == nil && p.keyword("OR") {
		p.next()
		var right condition
		if right, err = p.and(depth); err == nil {
			left = orCond{left, right}
		}
	}
	return left, err
}

func (p *parser) and(depth int) (condition, error) {
	left, err := p.not(depth)
	for err == nil && p.keyword("AND") {
		p.next()
		var right condition
		if right, err = p.not(depth); err == nil {
			left = andCond{left, right}
		}
	}
	return left, err
}

func (p *parser) not(depth int) (condition, error) {
	if depth > maxDepth {
		return nil, validation("Invalid ConditionExpression: The expression is nested too deeply")
	}
	if p.keyword("NOT") {
		p.next()
		c, err := p.not(depth + 1)
		return notCond{c}, err
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (condition, error) {
	if p.punct("(") {
		p.next()
		c, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		return c, p.expect(")")
	}
	if t := p.peek(); t.kind == tName && p.toks[p.pos+1].text == "(" && t.text != "size" {
		return p.function()
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	switch t := p.peek(); {
	case t.kind == tOp:
		p.next()
		right, err := p.operand()
		return cmpCond{t.text, left, right}, err
	case p.keyword("BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.keyword("AND") {
			return nil, p.syntax()
		}
		p.next()
		hi, err := p.operand()
		return betweenCond{left, lo, hi}, err
	case p.keyword("IN"):
		p.next()
		return p.in(left)
	}
	return nil, p.syntax()
}

func (p *parser) in(left operand) (condition, error) {
	if err := p.expect("("); err != nil {
		return nil, err
	}
	c := inCond{v: left}
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		c.list = append(c.list, o)
		if !p.punct(",") {
			break
		}
		p.next()
	}
	if len(c.list) > 100 {
		return nil, validation("Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: " + strconv.Itoa(len(c.list)))
	}
	return c, p.expect(")")
}

// function parses attribute_exists, attribute_not_exists, attribute_type,
// begins_with and contains.
func (p *parser) function() (condition, error) {
	name := p.next().text
	arity := map[string]int{"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2}[name]
	if arity == 0 {
		return nil, validation("Invalid ConditionExpression: Invalid function name; function: " + name)
	}
	p.next() // (
	var args []operand
	for !p.punct(")") {
		if len(args) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		args = append(args, o)
	}
	p.next()
	if len(args) != arity {
		return nil, validation(fmt.Sprintf("Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args)))
	}
	path, ok := args[0].(pathOperand)
	if !ok {
		return nil, validation("Invalid ConditionExpression: Operator or function requires a document path; operator or function: " + name)
	}
	return p.functionOf(name, path, args)
}

func (p *parser) functionOf(name string, path pathOperand, args []operand) (condition, error) {
	switch name {
	case "attribute_exists":
		return existsCond{path, true}, nil
	case "attribute_not_exists":
		return existsCond{path, false}, nil
	case "attribute_type":
		v, ok := args[1].(*value)
		if !ok || v.S == nil || !slices.Contains([]string{"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}, *v.S) {
			return nil, validation("Invalid ConditionExpression: Invalid attribute type name found; type: " + fmt.Sprint(args[1]))
		}
		return typeCond{path, *v.S}, nil
	case "begins_with":
		if v, ok := args[1].(*value); ok && v.S == nil && v.B == nil {
			k, _ := v.kind()
			return nil, validation("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: " + k)
		}
		return beginsCond{path, args[1]}, nil
	}
	return containsCond{path, args[1]}, nil
}

// operand parses a path, an expression attribute value or size(path).
func (p *parser) operand() (operand, error) {
	t := p.peek()
	switch {
	case t.kind == tValuePH:
		p.next()
		v, ok := p.c.values[t.text]
		if !ok {
			return nil, validation("Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: " + t.text)
		}
		p.c.usedVals[t.text] = true
		return v, nil
	case t.kind == tName && t.text == "size" && p.toks[p.pos+1].text == "(":
		p.next()
		p.next()
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		path, ok := o.(pathOperand)
		if !ok {
			return nil, validation("Invalid ConditionExpression: Operator or function requires a document path; operator or function: size")
		}
		return sizeOperand{path}, p.expect(")")
	case t.kind == tName || t.kind == tNamePH:
		return p.path()
	}
	return nil, p.syntax()
}

// path parses name(.name | [n])*, names literal or #placeholders.
func (p *parser) path() (operand, error) {
	var path pathOperand
	for {
		t := p.next()
		switch t.kind {
		case tNamePH:
			name, ok := p.c.names[t.text]
			if !ok {
				return nil, validation("Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: " + t.text)
			}
			p.c.usedNames[t.text] = true
			path = append(path, pathElem{name: name})
		case tName:
			if reserved[strings.ToUpper(t.text)] {
				return nil, validation("Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: " + t.text)
			}
			path = append(path, pathElem{name: t.text})
		default:
			return nil, syntaxAt(t.text, t.text)
		}
		for p.punct("[") {
			p.next()
			n := p.next()
			i, err := strconv.Atoi(n.text)
			if n.kind != tNumber || err != nil {
				return nil, syntaxAt(n.text, n.text)
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			path = append(path, pathElem{index: i, isIndex: true})
		}
		if !p.punct(".") {
			return path, nil
		}
		p.next()
	}
}

type pathElem struct {
	name    string
	index   int
	isIndex bool
}

type pathOperand []pathElem

func (path pathOperand) value(item map[string]*value) (*value, bool) {
	cur := &value{M: item}
	for _, e := range path {
		switch {
		case e.isIndex && cur.L != nil && e.index < len(cur.L):
			cur = cur.L[e.index]
		case !e.isIndex && cur.M != nil && cur.M[e.name] != nil:
			cur = cur.M[e.name]
		default:
			return nil, false
		}
	}
	return cur, true
}

func (v *value) value(map[string]*value) (*value, bool) { return v, true }

type sizeOperand struct{ path pathOperand }

func (s sizeOperand) value(item map[string]*value) (*value, bool) {
	v, ok := s.path.value(item)
	if !ok {
		return nil, false
	}
	var n int
	switch {
	case v.S != nil:
		n = len(*v.S)
	case v.B != nil:
		n = len(v.B)
	case v.M != nil:
		n = len(v.M)
	case v.L != nil:
		n = len(v.L)
	case v.SS != nil || v.NS != nil || v.BS != nil:
		n = len(v.SS) + len(v.NS) + len(v.BS)
	default:
		return nil, false
	}
	str := strconv.Itoa(n)
	return &value{N: &str}, true
}

type orCond struct{ a, b condition }
type andCond struct{ a, b condition }
type notCond struct{ c condition }

func (c orCond) eval(item map[string]*value) bool  { return c.a.eval(item) || c.b.eval(item) }
func (c andCond) eval(item map[string]*value) bool { return c.a.eval(item) && c.b.eval(item) }
func (c notCond) eval(item map[string]*value) bool { return !c.c.eval(item) }

type cmpCond struct {
	op   string
	a, b operand
}

func (c cmpCond) eval(item map[string]*value) bool {
	a, ok1 := c.a.value(item)
	b, ok2 := c.b.value(item)
	if !ok1 || !ok2 {
		return false
	}
	switch c.op {
	case "=":
		return equal(a, b)
	case "<>":
		return !equal(a, b)
	}
	n, ok := compare(a, b)
	if !ok {
		return false
	}
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	}
	return n >= 0
}

type betweenCond struct{ v, lo, hi operand }

func (c betweenCond) eval(item map[string]*value) bool {
	return cmpCond{">=", c.v, c.lo}.eval(item) && cmpCond{"<=", c.v, c.hi}.eval(item)
}

type inCond struct {
	v    operand
	list []operand
}

func (c inCond) eval(item map[string]*value) bool {
	return slices.ContainsFunc(c.list, func(o operand) bool { return cmpCond{"=", c.v, o}.eval(item) })
}

type existsCond struct {
	path   pathOperand
	exists bool
}

func (c existsCond) eval(item map[string]*value) bool {
	_, ok := c.path.value(item)
	return ok == c.exists
}

type typeCond struct {
	path pathOperand
	typ  string
}

func (c typeCond) eval(item map[string]*value) bool {
	v, ok := c.path.value(item)
	if !ok {
		return false
	}
	k, _ := v.kind()
	return k == c.typ
}

type beginsCond struct {
	path   pathOperand
	prefix operand
}

func (c beginsCond) eval(item map[string]*value) bool {
	v, ok1 := c.path.value(item)
	p, ok2 := c.prefix.value(item)
	switch {
	case !ok1 || !ok2:
		return false
	case v.S != nil && p.S != nil:
		return strings.HasPrefix(*v.S, *p.S)
	case v.B != nil && p.B != nil:
		return strings.HasPrefix(string(v.B), string(p.B))
	}
	return false
}

type containsCond struct {
	path pathOperand
	what operand
}

func (c containsCond) eval(item map[string]*value) bool {
	v, ok1 := c.path.value(item)
	w, ok2 := c.what.value(item)
	switch {
	case !ok1 || !ok2:
		return false
	case v.S != nil && w.S != nil:
		return strings.Contains(*v.S, *w.S)
	case v.B != nil && w.B != nil:
		return strings.Contains(string(v.B), string(w.B))
	case v.L != nil:
		return slices.ContainsFunc(v.L, func(e *value) bool { return equal(e, w) })
	case v.SS != nil && w.S != nil:
		return slices.Contains(v.SS, *w.S)
	case v.NS != nil && w.N != nil:
		return slices.ContainsFunc(v.NS, func(n string) bool { s := n; return equal(&value{N: &s}, w) })
	case v.BS != nil && w.B != nil:
		return slices.ContainsFunc(v.BS, func(b []byte) bool { return string(b) == string(w.B) })
	}
	return false
}

// copyItem copies an item's top level, enough for a put that replaces it.
func copyItem(item map[string]*value) map[string]*value { return maps.Clone(item) }
