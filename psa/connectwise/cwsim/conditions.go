package cwsim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// kind is the type of a field a condition can name.
type kind int

const (
	kindInt kind = iota
	kindBool
	kindString
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "a number"
	case kindBool:
		return "true or false"
	default:
		return "a quoted string"
	}
}

// literal is a value in a condition, or a field's value to compare with.
type literal struct {
	k    kind
	null bool
	i    int
	b    bool
	s    string
}

// clause is one "field op value" term.
type clause struct {
	field string // lower-cased
	op    string
	lit   literal
}

// schema lists the fields (lower-cased) a conditions parameter may name.
type schema map[string]kind

// parseConditions reads the subset of Manage's condition language the
// simulator understands: terms "field = value" or "field != value" joined
// with AND, where value is a number, true, false, null or a double-quoted
// string. Everything else (OR, parentheses, like, contains, in, dates,
// single quotes) is refused with a 400 ApiFindCondition answer, so a
// client that sends a form the simulator does not model finds out.
func parseConditions(src string, sc schema) ([]clause, *apiError) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	var out []clause
	for i := 0; i < len(toks); {
		if len(out) > 0 {
			if toks[i].typ != tokIdent || !strings.EqualFold(toks[i].text, "and") {
				return nil, badCondition(fmt.Sprintf("expected AND after a condition, found %q; the simulator supports only AND", toks[i].text))
			}
			i++
		}
		if i+2 >= len(toks) {
			return nil, badCondition(fmt.Sprintf("incomplete condition in %q", src))
		}
		field, op, val := toks[i], toks[i+1], toks[i+2]
		i += 3
		if field.typ != tokIdent {
			return nil, badCondition(fmt.Sprintf("expected a field name, found %q", field.text))
		}
		name := strings.ToLower(field.text)
		want, ok := sc[name]
		if !ok {
			return nil, badCondition(field.text + " is not a recognized name.")
		}
		if op.typ != tokOp {
			return nil, badCondition(fmt.Sprintf("operator %q is not supported by the simulator (only = and !=)", op.text))
		}
		if op.text != "=" && op.text != "!=" {
			return nil, badCondition(fmt.Sprintf("operator %q is not supported by the simulator (only = and !=)", op.text))
		}
		lit, err := val.literal(want)
		if err != nil {
			return nil, badCondition(fmt.Sprintf("%s: value must be %s, found %q", field.text, want, val.text))
		}
		out = append(out, clause{field: name, op: op.text, lit: lit})
	}
	if len(out) == 0 {
		return nil, badCondition("empty condition")
	}
	return out, nil
}

// matches reports whether every clause holds for the entity get describes.
func matches(cs []clause, get func(field string) literal) bool {
	for _, c := range cs {
		if c.holds(get(c.field)) != (c.op == "=") {
			return false
		}
	}
	return true
}

// holds reports whether v equals the clause's literal (strings ignore
// case, as Manage's SQL collation does).
func (c clause) holds(v literal) bool {
	switch {
	case c.lit.null:
		return v.null || (v.k == kindString && v.s == "")
	case v.null:
		return false
	}
	switch c.lit.k {
	case kindInt:
		return v.i == c.lit.i
	case kindBool:
		return v.b == c.lit.b
	default:
		return strings.EqualFold(v.s, c.lit.s)
	}
}

// errWrongLiteral: a value token does not fit the field's kind.
var errWrongLiteral = errors.New("literal does not fit the field")

type tokType int

const (
	tokIdent tokType = iota
	tokOp
	tokNumber
	tokString
)

type token struct {
	typ  tokType
	text string
}

// literal converts a value token to the field's kind.
func (t token) literal(want kind) (literal, error) {
	if t.typ == tokIdent && strings.EqualFold(t.text, "null") {
		return literal{k: want, null: true}, nil
	}
	switch want {
	case kindInt:
		if t.typ == tokNumber {
			n, err := strconv.Atoi(t.text)
			if err == nil {
				return literal{k: kindInt, i: n}, nil
			}
		}
	case kindBool:
		if t.typ == tokIdent && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")) {
			return literal{k: kindBool, b: strings.EqualFold(t.text, "true")}, nil
		}
	case kindString:
		if t.typ == tokString {
			return literal{k: kindString, s: t.text}, nil
		}
	}
	return literal{}, errWrongLiteral
}

// tokenize splits a conditions string into identifiers, operators,
// numbers and double-quoted strings (with \" and \\ escapes).
func tokenize(src string) ([]token, *apiError) {
	var toks []token
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(rs) {
				if rs[j] == '\\' && j+1 < len(rs) {
					b.WriteRune(rs[j+1])
					j += 2
					continue
				}
				if rs[j] == '"' {
					closed = true
					break
				}
				b.WriteRune(rs[j])
				j++
			}
			if !closed {
				return nil, badCondition("unterminated string in condition")
			}
			toks = append(toks, token{typ: tokString, text: b.String()})
			i = j + 1
		case r == '=' || r == '!' || r == '<' || r == '>':
			j := i + 1
			if j < len(rs) && rs[j] == '=' {
				j++
			}
			op := string(rs[i:j])
			if op == "!" {
				return nil, badCondition("unexpected '!' in condition")
			}
			toks = append(toks, token{typ: tokOp, text: op})
			i = j
		case unicode.IsDigit(r) || (r == '-' && i+1 < len(rs) && unicode.IsDigit(rs[i+1])):
			j := i + 1
			for j < len(rs) && unicode.IsDigit(rs[j]) {
				j++
			}
			toks = append(toks, token{typ: tokNumber, text: string(rs[i:j])})
			i = j
		case unicode.IsLetter(r) || r == '_':
			j := i + 1
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '/' || rs[j] == '.') {
				j++
			}
			word := string(rs[i:j])
			switch strings.ToLower(word) {
			case "like", "contains", "in", "not":
				toks = append(toks, token{typ: tokOp, text: strings.ToLower(word)})
			case "or":
				return nil, badCondition("OR is not supported by the simulator")
			default:
				toks = append(toks, token{typ: tokIdent, text: word})
			}
			i = j
		default:
			return nil, badCondition(fmt.Sprintf("unexpected %q in condition", string(r)))
		}
	}
	return toks, nil
}
