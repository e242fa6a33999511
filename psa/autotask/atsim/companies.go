package atsim

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// Autotask's limits on the company fields the simulator writes.
const (
	maxCompanyName = 100
	maxWebAddress  = 255
)

// companyUDFName resolves a company UDF name case-insensitively to its
// defined spelling.
func (s *Sim) companyUDFName(name string) (string, bool) {
	for _, d := range s.cfg.companyUDFs {
		if strings.EqualFold(d, strings.TrimSpace(name)) {
			return d, true
		}
	}
	return "", false
}

// patchCompany answers PATCH Companies: the body carries the company's id
// and only the fields to change (companyName, webAddress, isActive,
// userDefinedFields); the answer is {"itemId":N}. Any other field, an
// undefined UDF or an unknown id is refused and nothing changes.
func (s *Sim) patchCompany(w http.ResponseWriter, body []byte) {
	id, fields, ok := decodePatch(w, body, "Company")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.companies[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody("Company "+strconv.FormatInt(id, 10)+" was not found."))
		return
	}
	c := *old
	c.udfs = maps.Clone(old.udfs)
	if err := s.applyCompanyFields(&c, fields); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorsBody(err.Error()))
		return
	}
	s.companies[id] = &c
	writeJSON(w, http.StatusOK, map[string]int64{"itemId": id})
}

// applyCompanyFields writes the given wire fields onto c, checking each.
func (s *Sim) applyCompanyFields(c *company, fields map[string]json.RawMessage) error {
	for key, raw := range fields {
		switch key {
		case "companyname", "webaddress":
			v, err := stringValue(raw)
			if err != nil {
				return fmt.Errorf("%s must be a string.", key)
			}
			if key == "companyname" {
				if strings.TrimSpace(v) == "" || len([]rune(v)) > maxCompanyName {
					return fmt.Errorf("companyName is required and at most %d characters.", maxCompanyName)
				}
				c.name = v
				continue
			}
			if len([]rune(v)) > maxWebAddress {
				return fmt.Errorf("Value for field webAddress exceeds the maximum length of %d characters.", maxWebAddress)
			}
			c.webAddress = v
		case "isactive":
			var b bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return fmt.Errorf("isActive must be true or false on Companies.")
			}
			c.active = b
		case "userdefinedfields":
			if err := applyUDFValues(c.udfs, raw, s.companyUDFName, "Companies"); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%q is not a field the simulator updates on Companies.", key)
		}
	}
	return nil
}

// SeedCompany stores c and its contacts as if they had been created in
// Autotask and returns the company's id (c.ID when set, a new one
// otherwise): Website in webAddress, TenantID in the tenant-id company UDF
// (DefaultTenantIDUDF unless WithTenantIDUDF), Inactive as isActive false.
func (s *Sim) SeedCompany(c simkit.Company) int { return c.Seed(s.storeCompany, s.SeedContact) }

// storeCompany stores SeedCompany's company, without its contacts, and
// returns its id.
func (s *Sim) storeCompany(c simkit.Company) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.claimIDLocked(int64(c.ID))
	co := &company{id: id, name: c.Name, active: !c.Inactive, webAddress: c.Website, udfs: map[string]string{}}
	if c.TenantID != "" && len(s.cfg.companyUDFs) > 0 {
		co.udfs[s.cfg.companyUDFs[0]] = c.TenantID
	}
	s.companies[id] = co
	return int(id)
}

// Company reads a company back in seed terms (without contacts), and
// whether it exists.
func (s *Sim) Company(id int) (simkit.Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	co, ok := s.companies[int64(id)]
	if !ok {
		return simkit.Company{}, false
	}
	out := simkit.Company{ID: int(co.id), Name: co.name, Website: co.webAddress, Inactive: !co.active}
	if len(s.cfg.companyUDFs) > 0 {
		out.TenantID = co.udfs[s.cfg.companyUDFs[0]]
	}
	return out, true
}
