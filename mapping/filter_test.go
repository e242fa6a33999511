package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
)

// filterUser is the user the match table tests against.
func filterUser() directory.User {
	return directory.User{
		ID:                "id-1",
		UserPrincipalName: "Jane.Doe@Contoso.com",
		DisplayName:       "Jane Doe",
		GivenName:         "Jane",
		Surname:           "Doe",
		Mail:              "jane.doe@contoso.com",
		JobTitle:          "Senior Engineer",
		Department:        "Sales",
		OfficeLocation:    "Leeds",
		CompanyName:       "Contoso Ltd",
		MobilePhone:       "+44 7700 900000",
		AccountEnabled:    directory.Bool(true),
		UserType:          "Member",
		EmployeeID:        "E042",
		City:              "Leeds",
		Country:           "United Kingdom",
	}
}

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want bool
	}{
		{"", true},
		{"  \t\n ", true},
		{"department eq 'Sales'", true},
		{"department eq 'sales'", true},
		{"DEPARTMENT EQ 'SALES'", true},
		{"department eq 'Sale'", false},
		{"department ne 'Sales'", false},
		{"department ne 'HR'", true},
		{"officeLocation eq 'Leeds'", true},
		{"jobTitle eq 'Senior Engineer'", true},
		{"companyName eq 'contoso ltd'", true},
		{"userPrincipalName eq 'jane.doe@contoso.com'", true},
		{"mail eq 'JANE.DOE@CONTOSO.COM'", true},
		{"userType eq 'Member'", true},
		{"userType eq 'Guest'", false},
		{"city eq 'Leeds'", true},
		{"country eq 'United Kingdom'", true},
		{"employeeId eq 'e042'", true},
		{"displayName eq 'Jane Doe'", true},
		{"givenName eq 'Jane' and surname eq 'Doe'", true},
		{"mobilePhone ne null", true},
		{"accountEnabled eq true", true},
		{"accountEnabled eq false", false},
		{"accountEnabled ne false", true},
		{"accountEnabled ne true", false},
		{"AccountEnabled EQ TRUE", true},
		{"startswith(userPrincipalName,'jane')", true},
		{"startswith(userPrincipalName, 'JANE.')", true},
		{"startswith(userPrincipalName,'svc-')", false},
		{"startswith(userPrincipalName,'')", true},
		{"endswith(mail,'@CONTOSO.com')", true},
		{"endswith(mail,'@fabrikam.com')", false},
		{"endswith(mail,'')", true},
		{"startswith(jobTitle,'Senior') eq true", true},
		{"startswith(jobTitle,'Senior') eq false", false},
		{"startswith(jobTitle,'Senior') ne true", false},
		{"startswith(jobTitle,'Junior') ne true", true},
		{"STARTSWITH(jobTitle,'senior')", true},
		{"department in ('HR','Sales')", true},
		{"department in ('HR', 'Finance')", false},
		{"department in ('sales')", true},
		{"employeeId in (null, 'x')", false},
		{"city eq null", false},
		{"department eq 'Sales' and officeLocation eq 'Leeds'", true},
		{"department eq 'Sales' and officeLocation eq 'York'", false},
		{"department eq 'HR' or officeLocation eq 'Leeds'", true},
		{"department eq 'HR' or officeLocation eq 'York'", false},
		{"not department eq 'HR'", true},
		{"not department eq 'Sales'", false},
		{"not not department eq 'Sales'", true},
		{"not (department eq 'HR' or officeLocation eq 'York')", true},
		{"not(startswith(userPrincipalName,'svc-'))", true},
		// and binds tighter than or.
		{"department eq 'HR' and city eq 'x' or userType eq 'Member'", true},
		{"userType eq 'Member' or department eq 'HR' and city eq 'x'", true},
		{"(userType eq 'Member' or department eq 'HR') and city eq 'x'", false},
		// not binds tighter than and.
		{"not department eq 'HR' and city eq 'Leeds'", true},
		{"not (department eq 'Sales' and city eq 'York')", true},
		{"((((department eq 'Sales'))))", true},
	}
	u := filterUser()
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			f, err := CompileFilter(tc.expr)
			require.NoError(t, err)
			require.Equal(t, tc.want, f.Match(u))

			// The canonical form compiles to a filter that decides alike.
			again, err := CompileFilter(f.String())
			require.NoError(t, err, f.String())
			require.Equal(t, f.String(), again.String())
			require.Equal(t, tc.want, again.Match(u))
		})
	}
}

func TestFilterEdgeValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		edit func(u *directory.User)
		want bool
	}{
		{name: "null matches blank", expr: "department eq null", edit: func(u *directory.User) { u.Department = " " }, want: true},
		{name: "ne null on blank", expr: "department ne null", edit: func(u *directory.User) { u.Department = "" }, want: false},
		{name: "quote escape", expr: "surname eq 'O''Brien'", edit: func(u *directory.User) { u.Surname = "o'brien" }, want: true},
		{name: "only a quote", expr: "surname eq ''''", edit: func(u *directory.User) { u.Surname = "'" }, want: true},
		{name: "empty literal", expr: "surname eq ''", edit: func(u *directory.User) { u.Surname = "" }, want: true},
		{name: "unicode case folding", expr: "startswith(city,'ÉCUBLENS')", edit: func(u *directory.User) { u.City = "écublens" }, want: true},
		{name: "unicode suffix", expr: "endswith(city,'STRASSE')", edit: func(u *directory.User) { u.City = "Hauptstrasse" }, want: true},
		{name: "kelvin sign folds to k", expr: "startswith(city,'\u212aiel')", edit: func(u *directory.User) { u.City = "kiel" }, want: true},
		{name: "prefix longer than value", expr: "startswith(city,'Leedsshire')", want: false},
		{name: "suffix longer than value", expr: "endswith(city,'xLeeds')", want: false},
		{name: "unknown enabled counts as enabled", expr: "accountEnabled eq true", edit: func(u *directory.User) { u.AccountEnabled = nil }, want: true},
		{name: "disabled", expr: "accountEnabled eq false", edit: func(u *directory.User) { u.AccountEnabled = directory.Bool(false) }, want: true},
		{name: "unicode literal", expr: "city eq 'Zürich'", edit: func(u *directory.User) { u.City = "ZÜRICH" }, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := CompileFilter(tc.expr)
			require.NoError(t, err)
			u := filterUser()
			if tc.edit != nil {
				tc.edit(&u)
			}
			require.Equal(t, tc.want, f.Match(u))
		})
	}
}

func TestFilterString(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                                              "",
		"DEPARTMENT eq 'Sales'":                         "department eq 'Sales'",
		"a eq 'x' or b eq 'y'":                          "", // unknown property: an error, checked below
		"surname EQ 'O''Brien'":                         "surname eq 'O''Brien'",
		"accountEnabled ne false":                       "accountEnabled eq true",
		"startswith(mail,'a') eq true":                  "startswith(mail,'a')",
		"startswith(mail,'a') ne true":                  "startswith(mail,'a') eq false",
		"endswith(mail , 'b')":                          "endswith(mail,'b')",
		"department in ('a',null)":                      "department in ('a',null)",
		"not city eq null":                              "not city eq null",
		"not (city eq null)":                            "not city eq null",
		"not (city eq 'a' or city eq 'b')":              "not (city eq 'a' or city eq 'b')",
		"not startswith(city,'a') eq false":             "not startswith(city,'a') eq false",
		"city eq 'a' and city eq 'b' or city eq 'c'":    "city eq 'a' and city eq 'b' or city eq 'c'",
		"city eq 'a' and (city eq 'b' or city eq 'c')":  "city eq 'a' and (city eq 'b' or city eq 'c')",
		"(city eq 'a' and city eq 'b') and city eq 'c'": "city eq 'a' and city eq 'b' and city eq 'c'",
		"city eq 'a' or (city eq 'b' or (city eq 'c'))": "city eq 'a' or city eq 'b' or city eq 'c'",
		"((city eq 'a'))":                               "city eq 'a'",
	}
	for in, want := range tests {
		f, err := CompileFilter(in)
		if want == "" && in != "" {
			require.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		require.Equal(t, want, f.String(), in)
	}
	var nilFilter *Filter
	require.Empty(t, nilFilter.String())
	require.True(t, nilFilter.Match(filterUser()))
}

func TestFilterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr string
		want string
	}{
		{"department", "position 11: expected eq, ne or in after department, found the end of the expression"},
		{"department eq", "position 14: expected a string in single quotes or null to compare department with, found the end of the expression"},
		{"department eq Sales", "position 15: expected a string in single quotes or null to compare department with, found 'Sales'"},
		{"department eq true", "position 15: expected a string in single quotes or null to compare department with, found 'true'"},
		{`department eq "Sales"`, `position 15: unexpected character '"': strings take single quotes, as in 'Sales'`},
		{"department eq 'Sales", "position 15: unterminated string: a closing ' is missing"},
		{"department eq 'O''Brien", "position 15: unterminated string: a closing ' is missing"},
		{"employeeId eq 42", "position 15: unexpected character '4': numbers are compared as strings, as in '42'"},
		{"department = 'Sales'", "position 12: unexpected character '='"},
		{"department equals 'Sales'", "position 12: expected eq, ne or in after department, found 'equals'"},
		{"dept eq 'Sales'", "position 1: unknown property 'dept' (want one of accountEnabled, city, companyName, country, department, displayName, employeeId, givenName, jobTitle, mail, mobilePhone, officeLocation, surname, userPrincipalName, userType)"},
		{"department eq 'Sales' and", "position 26: expected a property name, a function, 'not' or '(', found the end of the expression"},
		{"department eq 'Sales' or or city eq 'x'", "position 26: expected a property name, a function, 'not' or '(', found 'or'"},
		{"department eq 'Sales' city eq 'x'", "position 23: expected 'and', 'or' or the end of the expression, found 'city'"},
		{"and department eq 'Sales'", "position 1: expected a property name, a function, 'not' or '(', found 'and'"},
		{"(department eq 'Sales'", "position 23: expected ')' to close the '(' at position 1, found the end of the expression"},
		{"department eq 'Sales')", "position 22: expected 'and', 'or' or the end of the expression, found ')'"},
		{"()", "position 2: expected a property name, a function, 'not' or '(', found ')'"},
		{",", "position 1: expected a property name, a function, 'not' or '(', found ','"},
		{"'Sales' eq department", "position 1: expected a property name, a function, 'not' or '(', found the string 'Sales'"},
		{"accountEnabled eq 'true'", "position 19: expected true or false to compare accountEnabled with, found the string 'true'"},
		{"accountEnabled in (true)", "position 16: accountEnabled takes eq or ne with true or false, not in"},
		{"accountEnabled", "position 15: expected eq, ne or in after accountEnabled, found the end of the expression"},
		{"department in 'Sales'", "position 15: expected '(' to open the list after in, found the string 'Sales'"},
		{"department in ()", "position 16: expected a string in single quotes or null to compare department with, found ')'"},
		{"department in ('a' 'b')", "position 20: expected ',' or ')' in the list after in, found the string 'b'"},
		{"department in ('a',", "position 20: expected a string in single quotes or null to compare department with, found the end of the expression"},
		{"startswith(department)", "position 22: expected ',' after the property in startswith, found ')'"},
		{"startswith('x',department)", "position 12: expected a property name as the first argument of startswith, found the string 'x'"},
		{"startswith(dept,'x')", "position 12: unknown property 'dept' (want one of"},
		{"endswith(accountEnabled,'x')", "position 10: endswith needs a text property, and accountEnabled is true or false"},
		{"startswith(department,x)", "position 23: expected a string in single quotes as the second argument of startswith, found 'x'"},
		{"startswith(department,null)", "position 23: expected a string in single quotes as the second argument of startswith, found 'null'"},
		{"startswith(department,'x'", "position 26: expected ')' to close startswith, found the end of the expression"},
		{"startswith(department,'x') eq 'y'", "position 31: expected true or false to compare startswith(...) with, found the string 'y'"},
		{"startswith eq 'x'", "position 1: unknown property 'startswith' (want one of"},
		{"not", "position 4: expected a property name, a function, 'not' or '(', found the end of the expression"},
		{"city eq 'a very long literal that is cut short' city", "position 49: expected 'and', 'or' or the end of the expression, found 'city'"},
		{"city eq 'x' 'a very long literal that is cut short'", "found the string 'a very long literal ...'"},
		{"city eq 'Zürich' and ü", "position 22: unknown property 'ü'"},
		{"city eq 'x' \x00", `position 13: unexpected character '\x00'`},
		{strings.Repeat("(", 70) + "city eq 'x'" + strings.Repeat(")", 70), "position 66: expression is nested more than 64 levels deep"},
		{strings.Repeat("not ", 70) + "city eq 'x'", "position 261: expression is nested more than 64 levels deep"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			f, err := CompileFilter(tc.expr)
			require.Nil(t, f)
			require.Error(t, err)
			var fe *FilterError
			require.True(t, errors.As(err, &fe))
			require.Positive(t, fe.Pos)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// FuzzCompileFilter: CompileFilter never panics; whatever compiles has a
// canonical form that compiles to itself and decides every user alike.
func FuzzCompileFilter(f *testing.F) {
	for _, seed := range []string{
		"",
		"department eq 'Sales'",
		"department eq 'Sales' and not startswith(userPrincipalName,'svc-')",
		"(officeLocation eq 'Leeds' or officeLocation eq 'York') and accountEnabled eq true",
		"companyName in ('Contoso','Fabrikam') and mail ne null",
		"endswith(mail,'@contoso.com') eq false or userType ne 'Guest'",
		"surname eq 'O''Brien'",
		"not (city eq 'ÉCUBLENS')",
		"department eq 'Sales",
		"((",
	} {
		f.Add(seed)
	}
	users := []directory.User{
		filterUser(),
		{},
		{AccountEnabled: directory.Bool(false), UserType: "Guest", Department: "sales", Surname: "o'brien", City: "écublens"},
	}
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := CompileFilter(expr)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) || fe.Pos < 1 || fe.Pos > len([]rune(expr))+1 {
				t.Fatalf("CompileFilter(%q): bad error %v", expr, err)
			}
			return
		}
		canon := flt.String()
		again, err := CompileFilter(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not compile: %v", canon, expr, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is unstable: %q then %q", expr, canon, again.String())
		}
		for _, u := range users {
			if flt.Match(u) != again.Match(u) {
				t.Fatalf("%q and its canonical form %q disagree on %+v", expr, canon, u)
			}
		}
	})
}
