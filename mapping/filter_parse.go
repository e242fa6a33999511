package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FilterError is a syntax error in an office365_sync_filter expression.
type FilterError struct {
	// Pos is the 1-based character position of the offending token.
	Pos int
	// Msg says what was expected and what was found there.
	Msg string
}

// Error implements error.
func (e *FilterError) Error() string { return fmt.Sprintf("position %d: %s", e.Pos, e.Msg) }

// maxFilterDepth bounds nesting (parentheses and not), so a pathological
// expression cannot exhaust the stack.
const maxFilterDepth = 64

// CompileFilter parses an office365_sync_filter expression (see Filter for
// the language). An empty or blank expression matches every user. Errors are
// *FilterError values naming the position and what was expected.
func CompileFilter(expr string) (*Filter, error) {
	toks, err := lex(expr)
	if err != nil {
		return nil, err
	}
	p := &parser{src: expr, toks: toks}
	if p.peek().kind == tokEOF {
		return &Filter{}, nil
	}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errorf(t, "expected 'and', 'or' or the end of the expression, found %s", describe(t))
	}
	return &Filter{root: root}, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokLParen
	tokRParen
	tokComma
)

// token is one lexeme; off is its byte offset in the expression.
type token struct {
	kind tokKind
	text string // identifier as written, or a string literal's value
	off  int
}

// lex splits expr into tokens, ending with tokEOF.
func lex(expr string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(expr) {
		r, n := utf8.DecodeRuneInString(expr[i:])
		switch {
		case unicode.IsSpace(r):
			i += n
		case r == '(':
			toks = append(toks, token{kind: tokLParen, off: i})
			i++
		case r == ')':
			toks = append(toks, token{kind: tokRParen, off: i})
			i++
		case r == ',':
			toks = append(toks, token{kind: tokComma, off: i})
			i++
		case r == '\'':
			s, end, ok := lexString(expr, i)
			if !ok {
				return nil, &FilterError{Pos: charPos(expr, i), Msg: "unterminated string: a closing ' is missing"}
			}
			toks = append(toks, token{kind: tokString, text: s, off: i})
			i = end
		case r == '_' || unicode.IsLetter(r):
			start := i
			for i < len(expr) {
				r, n := utf8.DecodeRuneInString(expr[i:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				i += n
			}
			toks = append(toks, token{kind: tokIdent, text: expr[start:i], off: start})
		default:
			msg := fmt.Sprintf("unexpected character %s", strconv.QuoteRune(r))
			switch {
			case r == '"':
				msg += ": strings take single quotes, as in 'Sales'"
			case unicode.IsDigit(r):
				msg += ": numbers are compared as strings, as in '42'"
			}
			return nil, &FilterError{Pos: charPos(expr, i), Msg: msg}
		}
	}
	return append(toks, token{kind: tokEOF, off: len(expr)}), nil
}

// lexString reads the single-quoted literal starting at expr[start] (” is
// a quote); it returns the value and the offset after the closing quote.
func lexString(expr string, start int) (string, int, bool) {
	var b strings.Builder
	i := start + 1
	for {
		q := strings.IndexByte(expr[i:], '\'')
		if q < 0 {
			return "", 0, false
		}
		b.WriteString(expr[i : i+q])
		i += q + 1
		if i < len(expr) && expr[i] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i, true
	}
}

// charPos converts a byte offset into a 1-based character position.
func charPos(s string, off int) int {
	return utf8.RuneCountInString(s[:off]) + 1
}

// parser is a recursive-descent parser over the tokens.
type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

// isKeyword reports whether t is the identifier kw, ignoring case.
func isKeyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

// reserved are the identifiers that cannot start a comparison.
var reserved = [...]string{"and", "or", "not", "eq", "ne", "in", "true", "false", "null"}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &FilterError{Pos: charPos(p.src, t.off), Msg: fmt.Sprintf(format, args...)}
}

// describe names a token for an error message.
func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString:
		s := t.text
		if utf8.RuneCountInString(s) > 20 {
			s = string([]rune(s)[:20]) + "..."
		}
		return "the string '" + strings.ReplaceAll(s, "'", "''") + "'"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokComma:
		return "','"
	}
	return "'" + t.text + "'"
}

// parseOr: and-expression { or and-expression }.
func (p *parser) parseOr(depth int) (*node, error) {
	return p.parseChain(depth, "or", opOr, p.parseAnd)
}

// parseAnd: unary { and unary }.
func (p *parser) parseAnd(depth int) (*node, error) {
	return p.parseChain(depth, "and", opAnd, p.parseUnary)
}

// parseChain: operand { keyword operand }, as one node of op over the
// operands; a lone operand is returned as it is.
func (p *parser) parseChain(depth int, keyword string, op opKind, operand func(int) (*node, error)) (*node, error) {
	x, err := operand(depth)
	if err != nil {
		return nil, err
	}
	if !isKeyword(p.peek(), keyword) {
		return x, nil
	}
	chain := &node{op: op}
	chain.appendFlat(x)
	for isKeyword(p.peek(), keyword) {
		p.next()
		x, err := operand(depth)
		if err != nil {
			return nil, err
		}
		chain.appendFlat(x)
	}
	return chain, nil
}

// appendFlat adds x to an and/or node, splicing in the operands of a
// parenthesised operand of the same kind: (a or b) or c is a or b or c.
func (n *node) appendFlat(x *node) {
	if x.op == n.op {
		n.xs = append(n.xs, x.xs...)
		return
	}
	n.xs = append(n.xs, x)
}

// parseUnary: not unary | primary.
func (p *parser) parseUnary(depth int) (*node, error) {
	if depth > maxFilterDepth {
		return nil, p.errorf(p.peek(), "expression is nested more than %d levels deep", maxFilterDepth)
	}
	if isKeyword(p.peek(), "not") {
		p.next()
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, xs: []*node{x}}, nil
	}
	return p.parsePrimary(depth)
}

// parsePrimary: ( or-expression ) | function call | comparison.
func (p *parser) parsePrimary(depth int) (*node, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		x, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.errorf(c, "expected ')' to close the '(' at position %d, found %s", charPos(p.src, t.off), describe(c))
		}
		return x, nil
	case tokIdent:
		if (isKeyword(t, "startswith") || isKeyword(t, "endswith")) && p.peek().kind == tokLParen {
			return p.parseCall(t)
		}
		for _, kw := range reserved {
			if isKeyword(t, kw) {
				return nil, p.errorf(t, "expected a property name, a function, 'not' or '(', found %s", describe(t))
			}
		}
		return p.parseComparison(t)
	}
	return nil, p.errorf(t, "expected a property name, a function, 'not' or '(', found %s", describe(t))
}

// property resolves an identifier token to a filterable property.
func (p *parser) property(t token) (propID, error) {
	prop, ok := lookupProperty(t.text)
	if !ok {
		return 0, p.errorf(t, "unknown property %s (want one of %s)", describe(t), propertyNames())
	}
	return prop, nil
}

// parseComparison: property (eq|ne) value | property in ( value {, value} ).
func (p *parser) parseComparison(name token) (*node, error) {
	prop, err := p.property(name)
	if err != nil {
		return nil, err
	}
	op := p.next()
	switch {
	case isKeyword(op, "eq"), isKeyword(op, "ne"):
		negate := isKeyword(op, "ne")
		if prop.boolean() {
			want, err := p.boolean(prop.name())
			if err != nil {
				return nil, err
			}
			return &node{op: opBool, want: want != negate}, nil
		}
		v, err := p.value(prop)
		if err != nil {
			return nil, err
		}
		return &node{op: opEq, prop: prop, vs: []value{v}, want: !negate}, nil
	case isKeyword(op, "in"):
		if prop.boolean() {
			return nil, p.errorf(op, "%s takes eq or ne with true or false, not in", prop.name())
		}
		if t := p.next(); t.kind != tokLParen {
			return nil, p.errorf(t, "expected '(' to open the list after in, found %s", describe(t))
		}
		var vs []value
		for {
			v, err := p.value(prop)
			if err != nil {
				return nil, err
			}
			vs = append(vs, v)
			t := p.next()
			if t.kind == tokRParen {
				return &node{op: opIn, prop: prop, vs: vs}, nil
			}
			if t.kind != tokComma {
				return nil, p.errorf(t, "expected ',' or ')' in the list after in, found %s", describe(t))
			}
		}
	}
	return nil, p.errorf(op, "expected eq, ne or in after %s, found %s", prop.name(), describe(op))
}

// value reads a string literal or null for a text property.
func (p *parser) value(prop propID) (value, error) {
	t := p.next()
	switch {
	case t.kind == tokString:
		return value{s: t.text}, nil
	case isKeyword(t, "null"):
		return value{null: true}, nil
	}
	return value{}, p.errorf(t, "expected a string in single quotes or null to compare %s with, found %s", prop.name(), describe(t))
}

// boolean reads true or false to compare what with.
func (p *parser) boolean(what string) (bool, error) {
	t := p.next()
	switch {
	case isKeyword(t, "true"):
		return true, nil
	case isKeyword(t, "false"):
		return false, nil
	}
	return false, p.errorf(t, "expected true or false to compare %s with, found %s", what, describe(t))
}

// parseCall: (startswith|endswith) ( property , string ) [ (eq|ne) (true|false) ].
func (p *parser) parseCall(fn token) (*node, error) {
	name := strings.ToLower(fn.text)
	p.next() // '(' checked by the caller
	pt := p.next()
	if pt.kind != tokIdent {
		return nil, p.errorf(pt, "expected a property name as the first argument of %s, found %s", name, describe(pt))
	}
	prop, err := p.property(pt)
	if err != nil {
		return nil, err
	}
	if prop.boolean() {
		return nil, p.errorf(pt, "%s needs a text property, and %s is true or false", name, prop.name())
	}
	if t := p.next(); t.kind != tokComma {
		return nil, p.errorf(t, "expected ',' after the property in %s, found %s", name, describe(t))
	}
	st := p.next()
	if st.kind != tokString {
		return nil, p.errorf(st, "expected a string in single quotes as the second argument of %s, found %s", name, describe(st))
	}
	if t := p.next(); t.kind != tokRParen {
		return nil, p.errorf(t, "expected ')' to close %s, found %s", name, describe(t))
	}
	n := &node{op: opPrefix, prop: prop, s: st.text, want: true}
	if name == "endswith" {
		n.op = opSuffix
	}
	if op := p.peek(); isKeyword(op, "eq") || isKeyword(op, "ne") {
		p.next()
		b, err := p.boolean(name + "(...)")
		if err != nil {
			return nil, err
		}
		n.want = b != isKeyword(op, "ne")
	}
	return n, nil
}
