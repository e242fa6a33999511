package mapping

import (
	"strings"
	"text/template"
)

// templateFuncs are the functions a FieldRule.Source may call. Argument
// orders follow the Sprig library that Helm users know, so pipelines read
// naturally: {{.Mail | default .UserPrincipalName | lower}}.
//
//	first LIST         first element of a []string, "" when empty
//	last LIST          last element of a []string, "" when empty
//	lower S, upper S   case conversion
//	trim S             strip surrounding white space
//	default DEF V      V unless it is empty (""/nil/empty list), else DEF
//	join SEP LIST      elements of LIST separated by SEP
//	split SEP S        S cut at every SEP
//	replace OLD NEW S  every OLD in S replaced by NEW
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"first":   tmplFirst,
		"last":    tmplLast,
		"lower":   strings.ToLower,
		"upper":   strings.ToUpper,
		"trim":    strings.TrimSpace,
		"default": tmplDefault,
		"join":    tmplJoin,
		"split":   tmplSplit,
		"replace": tmplReplace,
	}
}

func tmplFirst(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func tmplLast(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[len(list)-1]
}

func tmplDefault(def, v any) any {
	if isEmpty(v) {
		return def
	}
	return v
}

func tmplJoin(sep string, list []string) string { return strings.Join(list, sep) }

func tmplSplit(sep, s string) []string { return strings.Split(s, sep) }

func tmplReplace(old, replacement, s string) string {
	return strings.ReplaceAll(s, old, replacement)
}

// isEmpty is default's notion of "no value" for the types a User holds.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	case []string:
		return len(x) == 0
	case *bool:
		return x == nil
	case bool:
		return !x
	}
	return false
}
