package onboarding

import (
	"strings"
	"unicode"
)

// legalSuffixes are the trailing words NormalizeName drops, so "Contoso
// Ltd", "CONTOSO LIMITED" and "Contoso, Inc." compare equal. Written
// without punctuation: NormalizeName removes it first ("B.V." → "b v" is
// covered by joining single letters, see NormalizeName).
var legalSuffixes = map[string]bool{
	"ltd": true, "limited": true, "inc": true, "incorporated": true, "llc": true, "llp": true, "lp": true,
	"gmbh": true, "pty": true, "bv": true, "nv": true, "plc": true, "corp": true, "corporation": true,
	"co": true, "company": true, "ag": true, "sa": true, "sas": true, "sarl": true, "srl": true, "spa": true,
	"ab": true, "as": true, "oy": true, "kg": true, "pte": true, "pvt": true, "lda": true, "kk": true,
}

// NormalizeName is the name rule's key: lower case, "&" read as "and",
// punctuation and repeated whitespace removed, runs of single letters
// joined ("B.V." → "bv"), and trailing legal suffixes (Ltd, Limited, Inc,
// LLC, GmbH, Pty, BV, ...) dropped while another word remains. A name
// of only punctuation normalizes to "", which matches nothing.
func NormalizeName(name string) string {
	var b strings.Builder
	for _, r := range name {
		r = unicode.ToLower(unicode.ToUpper(r)) // "ſ" and "s", "K" (Kelvin) and "k" fold together
		switch {
		case r == '&' || r == '+':
			b.WriteString(" and ")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// "O'Brien" and "OBrien" are the same name.
		default:
			b.WriteByte(' ')
		}
	}
	words := joinInitials(strings.Fields(b.String()))
	for len(words) > 1 {
		last := words[len(words)-1]
		// "GmbH & Co. KG": an "and" right after a legal suffix goes too.
		if legalSuffixes[last] || (last == "and" && len(words) > 2 && legalSuffixes[words[len(words)-2]]) {
			words = words[:len(words)-1]
			continue
		}
		break
	}
	return strings.Join(words, " ")
}

// joinInitials joins runs of one-letter words ("b v" from "B.V.", "a b c")
// into one word, so dotted abbreviations compare with undotted ones.
func joinInitials(words []string) []string {
	out := words[:0:0]
	run := ""
	flush := func() {
		if run != "" {
			out = append(out, run)
			run = ""
		}
	}
	for _, w := range words {
		if len([]rune(w)) == 1 && unicode.IsLetter([]rune(w)[0]) {
			run += w
			continue
		}
		flush()
		out = append(out, w)
	}
	flush()
	return out
}

// MatchableDomain lower-cases a domain and reports whether it may match a
// company: Microsoft's onmicrosoft.com domains (the initial domain every
// tenant has) never do, nor does anything without a dot.
func MatchableDomain(d string) (string, bool) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	if !strings.Contains(d, ".") || d == "onmicrosoft.com" || strings.HasSuffix(d, ".onmicrosoft.com") {
		return d, false
	}
	return d, true
}
