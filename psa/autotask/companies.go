package autotask

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// Company is an Autotask company, as set-up screens and the missing-company
// check need it.
type Company struct {
	// ID is the Autotask company id as text (what psa.Contact.CompanyID holds).
	ID string
	// Name is the company name.
	Name string
	// Active is false for deactivated companies.
	Active bool
}

type wireCompany struct {
	ID          int64     `json:"id"`
	CompanyName string    `json:"companyName"`
	IsActive    flexBool  `json:"isActive"`
	WebAddress  *string   `json:"webAddress"`
	UDFs        []wireUDF `json:"userDefinedFields"`
}

func (w wireCompany) company() Company {
	return Company{ID: strconv.FormatInt(w.ID, 10), Name: w.CompanyName, Active: bool(w.IsActive)}
}

// GetCompany reads one company with GET Companies/{id}; psa.ErrNotFound when
// it does not exist.
func (c *Client) GetCompany(ctx context.Context, id string) (Company, error) {
	op := "autotask: get company " + id
	n, err := parseID(op, "company id", id)
	if err != nil {
		return Company{}, err
	}
	u, err := c.endpoint(ctx, "V1.0/Companies/"+strconv.FormatInt(n, 10))
	if err != nil {
		return Company{}, err
	}
	var ans struct {
		Item json.RawMessage `json:"item"`
	}
	if err := c.do(ctx, op, http.MethodGet, u, nil, &ans); err != nil {
		return Company{}, err
	}
	if len(ans.Item) == 0 || string(ans.Item) == "null" {
		return Company{}, &psa.Error{Op: op, Kind: psa.ErrNotFound, StatusCode: http.StatusOK, Message: "Autotask answered item null"}
	}
	var w wireCompany
	if err := json.Unmarshal(ans.Item, &w); err != nil {
		return Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: fmt.Errorf("decode company: %w", err)}
	}
	return w.company(), nil
}

// QueryCompanies returns the companies whose name contains name, ignoring
// case (every company when name is empty), ordered by id as Autotask pages
// them.
func (c *Client) QueryCompanies(ctx context.Context, name string) ([]Company, error) {
	op := "autotask: query companies"
	f := filter{Op: "contains", Field: "companyName", Value: strings.TrimSpace(name)}
	if strings.TrimSpace(name) == "" {
		f = filter{Op: "gte", Field: "id", Value: 0}
	}
	body := queryBody{
		MaxRecords:    c.cfg.PageSize,
		IncludeFields: []string{"id", "companyName", "isActive"},
		Filter:        []filter{f},
	}
	var out []Company
	for raw, err := range c.query(ctx, op, "Companies", body) {
		if err != nil {
			return nil, err
		}
		var w wireCompany
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: fmt.Errorf("decode company: %w", err)}
		}
		out = append(out, w.company())
	}
	return out, nil
}
