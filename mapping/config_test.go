package mapping

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	require.True(t, cfg.Exclusions.Guests, "guests are excluded by default")
	require.False(t, cfg.Exclusions.Unlicensed)
	require.Empty(t, cfg.Exclusions.UPNPatterns)
	require.Empty(t, cfg.Exclusions.Domains)
	require.Len(t, cfg.Fields, len(MappableFields()))
	for _, f := range MappableFields() {
		want := ModeAlways
		if f == psa.FieldContactType {
			want = ModeOnCreate
		}
		require.Equal(t, FieldRule{Mode: want}, cfg.Fields[f], f)
	}
	_, ok := cfg.Fields[psa.FieldInactive]
	require.False(t, ok, "inactive is the engine's, not the mapping's")

	// Each call returns a fresh map: a caller editing one cannot change
	// another caller's defaults.
	cfg.Fields[psa.FieldEmail] = FieldRule{Source: "x"}
	require.Empty(t, DefaultConfig().Fields[psa.FieldEmail].Source)

	_, err := New(DefaultConfig())
	require.NoError(t, err)
	_, err = New(Config{})
	require.NoError(t, err, "a zero Config means every default rule")
}

func TestMappableFieldsMatchCanonical(t *testing.T) {
	t.Parallel()
	var want []psa.Field
	for _, f := range psa.CanonicalFields {
		if f != psa.FieldInactive {
			want = append(want, f)
		}
	}
	require.Equal(t, want, MappableFields())
	require.Equal(t, want, fieldSlots[:])
	MappableFields()[0] = "changed"
	require.Equal(t, psa.FieldFirstName, MappableFields()[0], "callers get a copy")
}

func TestNewConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   Config
		want  []string // substrings, each expected in the joined error
		lines int      // problems reported; 0 = len(want)
	}{
		{
			name: "unknown field",
			cfg:  Config{Fields: map[psa.Field]FieldRule{"foo": {}}},
			want: []string{"mapping.fields.foo: unknown field (want one of first_name, last_name, email, phone, mobile_phone, job_title, department, office_location, contact_type)"},
		},
		{
			name: "inactive is not mappable",
			cfg:  Config{Fields: map[psa.Field]FieldRule{psa.FieldInactive: {Source: "{{.AccountEnabled}}"}}},
			want: []string{"mapping.fields.inactive: not mappable"},
		},
		{
			name: "link is not mappable",
			cfg:  Config{Fields: map[psa.Field]FieldRule{psa.FieldExternalID: {}}},
			want: []string{"mapping.fields.m365_object_id: not mappable"},
		},
		{
			name: "bad mode",
			cfg:  Config{Fields: map[psa.Field]FieldRule{psa.FieldPhone: {Mode: "sometimes"}}},
			want: []string{`mapping.fields.phone.mode: "sometimes" is not a mode (want always or on_create)`},
		},
		{
			name: "template syntax",
			cfg:  Config{Fields: map[psa.Field]FieldRule{psa.FieldJobTitle: {Source: "{{.JobTitle"}}},
			want: []string{"mapping.fields.job_title.source: template: job_title:1: unclosed action"},
		},
		{
			name: "unknown function",
			cfg:  Config{Fields: map[psa.Field]FieldRule{psa.FieldJobTitle: {Source: "{{titlecase .JobTitle}}"}}},
			want: []string{`mapping.fields.job_title.source: template: job_title:1: function "titlecase" not defined`},
		},
		{
			name:  "misspelt property fails at load time",
			cfg:   Config{Fields: map[psa.Field]FieldRule{psa.FieldDepartment: {Source: "{{.Dept}}"}}},
			want:  []string{"mapping.fields.department.source: template: department:1:2: executing", "can't evaluate field Dept"},
			lines: 1,
		},
		{
			name: "wrong argument type fails at load time",
			cfg:  Config{Fields: map[psa.Field]FieldRule{psa.FieldPhone: {Source: "{{first .MobilePhone}}"}}},
			want: []string{"mapping.fields.phone.source: template: phone:1:"},
		},
		{
			name: "bad upn glob",
			cfg:  Config{Exclusions: Exclusions{UPNPatterns: []string{"svc-*", "adm[in"}}},
			want: []string{`mapping.exclusions.upn_patterns[1]: bad pattern "adm[in": syntax error in pattern`},
		},
		{
			name: "blank upn glob",
			cfg:  Config{Exclusions: Exclusions{UPNPatterns: []string{"  "}}},
			want: []string{"mapping.exclusions.upn_patterns[0]: empty pattern"},
		},
		{
			name: "bad domain glob",
			cfg:  Config{Exclusions: Exclusions{Domains: []string{`contoso.com\`}}},
			want: []string{`mapping.exclusions.domains[0]: bad pattern`},
		},
		{
			name: "every problem at once",
			cfg: Config{
				Fields: map[psa.Field]FieldRule{
					"zzz":              {},
					psa.FieldEmail:     {Source: "{{"},
					psa.FieldLastName:  {Mode: "never"},
					psa.FieldFirstName: {Source: "{{.GivenName}}"},
				},
				Exclusions: Exclusions{Domains: []string{"["}},
			},
			want: []string{
				"mapping.fields.email.source: template:",
				`mapping.fields.last_name.mode: "never"`,
				"mapping.fields.zzz: unknown field",
				"mapping.exclusions.domains[0]: bad pattern",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := New(tc.cfg)
			require.Error(t, err)
			require.Nil(t, m)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
			lines := tc.lines
			if lines == 0 {
				lines = len(tc.want)
			}
			require.Len(t, strings.Split(err.Error(), "\n"), lines, "one line per problem: %v", err)
		})
	}
}

func TestNewErrorOrderIsStable(t *testing.T) {
	t.Parallel()
	cfg := Config{Fields: map[psa.Field]FieldRule{
		"b": {}, "a": {}, "c": {}, psa.FieldEmail: {Mode: "x"},
	}}
	_, err := New(cfg)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 4)
	require.True(t, strings.HasPrefix(lines[0], "mapping.fields.a:"), lines[0])
	require.True(t, strings.HasPrefix(lines[1], "mapping.fields.b:"), lines[1])
	require.True(t, strings.HasPrefix(lines[2], "mapping.fields.c:"), lines[2])
	require.True(t, strings.HasPrefix(lines[3], "mapping.fields.email.mode:"), lines[3])
}

func TestNewModes(t *testing.T) {
	t.Parallel()
	m, err := New(Config{Fields: map[psa.Field]FieldRule{
		psa.FieldJobTitle:    {Mode: ModeOnCreate},
		psa.FieldContactType: {Source: "{{.CompanyName}}"}, // mode left empty: stays on_create
		psa.FieldDepartment:  {AllowBlank: true},
	}})
	require.NoError(t, err)
	require.Equal(t, ModeOnCreate, m.rules[slot(psa.FieldJobTitle)].mode)
	require.Equal(t, ModeOnCreate, m.rules[slot(psa.FieldContactType)].mode)
	require.Equal(t, ModeAlways, m.rules[slot(psa.FieldPhone)].mode)
	require.True(t, m.rules[slot(psa.FieldDepartment)].allowBlank)
	require.False(t, m.rules[slot(psa.FieldPhone)].allowBlank)

	m, err = New(Config{Fields: map[psa.Field]FieldRule{psa.FieldContactType: {Mode: ModeAlways}}})
	require.NoError(t, err)
	require.Equal(t, ModeAlways, m.rules[slot(psa.FieldContactType)].mode)
}
