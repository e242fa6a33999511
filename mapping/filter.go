package mapping

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/psasync/psasync/graph/directory"
)

// Filter is a compiled office365_sync_filter: a small subset of Graph's
// OData $filter that MSP engineers already write for Graph queries.
//
//	department eq 'Sales' and not startswith(userPrincipalName,'svc-')
//	(officeLocation eq 'Leeds' or officeLocation eq 'York') and accountEnabled eq true
//	companyName in ('Contoso','Fabrikam') and mail ne null
//	surname eq 'O''Brien'
//
// Operators: eq and ne (strings compare ignoring case; null is the empty
// value), in (a parenthesised list), startswith(prop,'x') and
// endswith(prop,'x') (ignoring case; optionally followed by eq true or eq
// false), and, or, not, parentheses. Precedence is not over and over or;
// not applies to the comparison or parenthesised expression that follows.
// Strings take single quotes; a quote inside one is doubled, as in the last
// example. Keywords and property names are matched ignoring case. A nil or
// empty Filter matches every user. A Filter is immutable and safe for
// concurrent use.
type Filter struct {
	root *node
}

// Match reports whether u passes the filter.
func (f *Filter) Match(u directory.User) bool {
	if f == nil || f.root == nil {
		return true
	}
	return f.root.match(&u)
}

// String returns the filter in canonical form (canonical names and
// keywords, parentheses only where and, or and not need them); compiling it
// again gives the same string and the same decisions.
func (f *Filter) String() string {
	if f == nil || f.root == nil {
		return ""
	}
	var b strings.Builder
	f.root.write(&b)
	return b.String()
}

// propID names a user property a filter may test.
type propID int

// The filterable properties; properties holds their Graph spellings.
const (
	propAccountEnabled propID = iota
	propCity
	propCompanyName
	propCountry
	propDepartment
	propDisplayName
	propEmployeeID
	propGivenName
	propJobTitle
	propMail
	propMobilePhone
	propOfficeLocation
	propSurname
	propUserPrincipalName
	propUserType
)

// properties are the Graph spellings of the filterable properties, indexed
// by propID.
var properties = [...]string{
	propAccountEnabled:    "accountEnabled",
	propCity:              "city",
	propCompanyName:       "companyName",
	propCountry:           "country",
	propDepartment:        "department",
	propDisplayName:       "displayName",
	propEmployeeID:        "employeeId",
	propGivenName:         "givenName",
	propJobTitle:          "jobTitle",
	propMail:              "mail",
	propMobilePhone:       "mobilePhone",
	propOfficeLocation:    "officeLocation",
	propSurname:           "surname",
	propUserPrincipalName: "userPrincipalName",
	propUserType:          "userType",
}

// name is the property's Graph spelling.
func (p propID) name() string { return properties[p] }

// boolean reports a property compared with true and false, not text.
func (p propID) boolean() bool { return p == propAccountEnabled }

// text returns a text property's value. A switch rather than a table of
// funcs keeps u on the caller's stack.
func (p propID) text(u *directory.User) string {
	switch p {
	case propCity:
		return u.City
	case propCompanyName:
		return u.CompanyName
	case propCountry:
		return u.Country
	case propDepartment:
		return u.Department
	case propDisplayName:
		return u.DisplayName
	case propEmployeeID:
		return u.EmployeeID
	case propGivenName:
		return u.GivenName
	case propJobTitle:
		return u.JobTitle
	case propMail:
		return u.Mail
	case propMobilePhone:
		return u.MobilePhone
	case propOfficeLocation:
		return u.OfficeLocation
	case propSurname:
		return u.Surname
	case propUserPrincipalName:
		return u.UserPrincipalName
	case propUserType:
		return u.UserType
	}
	return ""
}

// lookupProperty finds a property by name, ignoring case.
func lookupProperty(name string) (propID, bool) {
	for i, p := range properties {
		if strings.EqualFold(p, name) {
			return propID(i), true
		}
	}
	return 0, false
}

// propertyNames lists the property names for error messages.
func propertyNames() string {
	return strings.Join(properties[:], ", ")
}

// opKind is what a filter node tests.
type opKind int

const (
	opAnd    opKind = iota // every operand in xs matches
	opOr                   // some operand in xs matches
	opNot                  // xs[0] does not match
	opEq                   // prop equals vs[0]; want false makes it ne
	opIn                   // prop equals one of vs
	opPrefix               // startswith(prop, s) == want
	opSuffix               // endswith(prop, s) == want
	opBool                 // accountEnabled == want
)

// node is one element of a compiled filter. It is a plain struct, not an
// interface, so matching a user does not move the user to the heap.
type node struct {
	op   opKind
	xs   []*node
	prop propID
	vs   []value
	s    string
	want bool
}

// match evaluates the node for u.
func (n *node) match(u *directory.User) bool {
	switch n.op {
	case opAnd:
		for _, x := range n.xs {
			if !x.match(u) {
				return false
			}
		}
		return true
	case opOr:
		for _, x := range n.xs {
			if x.match(u) {
				return true
			}
		}
		return false
	case opNot:
		return !n.xs[0].match(u)
	case opEq:
		return n.vs[0].equals(n.prop.text(u)) == n.want
	case opIn:
		v := n.prop.text(u)
		for _, c := range n.vs {
			if c.equals(v) {
				return true
			}
		}
		return false
	case opPrefix:
		return hasPrefixFold(n.prop.text(u), n.s) == n.want
	case opSuffix:
		return hasSuffixFold(n.prop.text(u), n.s) == n.want
	case opBool:
		return u.Enabled() == n.want
	}
	return false
}

// write appends the node's canonical form.
func (n *node) write(b *strings.Builder) {
	switch n.op {
	case opAnd, opOr:
		sep := " and "
		if n.op == opOr {
			sep = " or "
		}
		for i, x := range n.xs {
			if i > 0 {
				b.WriteString(sep)
			}
			if n.op == opAnd {
				x.writeOperand(b)
			} else {
				x.write(b)
			}
		}
	case opNot:
		b.WriteString("not ")
		n.xs[0].writeOperand(b)
	case opEq:
		b.WriteString(n.prop.name())
		if n.want {
			b.WriteString(" eq ")
		} else {
			b.WriteString(" ne ")
		}
		n.vs[0].write(b)
	case opIn:
		b.WriteString(n.prop.name())
		b.WriteString(" in (")
		for i, v := range n.vs {
			if i > 0 {
				b.WriteByte(',')
			}
			v.write(b)
		}
		b.WriteByte(')')
	case opPrefix, opSuffix:
		if n.op == opSuffix {
			b.WriteString("endswith(")
		} else {
			b.WriteString("startswith(")
		}
		b.WriteString(n.prop.name())
		b.WriteByte(',')
		writeString(b, n.s)
		b.WriteByte(')')
		if !n.want {
			b.WriteString(" eq false")
		}
	case opBool:
		if n.want {
			b.WriteString("accountEnabled eq true")
		} else {
			b.WriteString("accountEnabled eq false")
		}
	}
}

// writeOperand writes an operand of and or not, parenthesised when it is a
// list of operands itself (the canonical form uses no other parentheses).
func (n *node) writeOperand(b *strings.Builder) {
	if n.op == opAnd || n.op == opOr {
		b.WriteByte('(')
		n.write(b)
		b.WriteByte(')')
		return
	}
	n.write(b)
}

// value is a literal: a string, or null (the empty value).
type value struct {
	s    string
	null bool
}

// equals compares a property's value with the literal, ignoring case.
func (v value) equals(s string) bool {
	if v.null {
		return strings.TrimSpace(s) == ""
	}
	return strings.EqualFold(s, v.s)
}

// write appends the literal.
func (v value) write(b *strings.Builder) {
	if v.null {
		b.WriteString("null")
		return
	}
	writeString(b, v.s)
}

// writeString writes s as a quoted literal.
func writeString(b *strings.Builder, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
}

// hasPrefixFold is strings.HasPrefix under Unicode simple case folding.
func hasPrefixFold(s, prefix string) bool { return foldedAffix(s, prefix, firstRune) }

// hasSuffixFold is strings.HasSuffix under Unicode simple case folding.
func hasSuffixFold(s, suffix string) bool { return foldedAffix(s, suffix, lastRune) }

// foldedAffix reports whether s holds affix under simple case folding, rune
// by rune as take splits them off (from the front or from the back).
func foldedAffix(s, affix string, take func(string) (rune, string)) bool {
	for affix != "" {
		if s == "" {
			return false
		}
		var r1, r2 rune
		r1, s = take(s)
		r2, affix = take(affix)
		if !equalFoldRune(r1, r2) {
			return false
		}
	}
	return true
}

// firstRune splits off the first rune of s.
func firstRune(s string) (rune, string) {
	r, n := utf8.DecodeRuneInString(s)
	return r, s[n:]
}

// lastRune splits off the last rune of s.
func lastRune(s string) (rune, string) {
	r, n := utf8.DecodeLastRuneInString(s)
	return r, s[:len(s)-n]
}

// equalFoldRune reports whether two runes are equal under simple folding.
func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}
