package autotask

import (
	"context"
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
	w, err := getItem[wireCompany](ctx, c, op, "Companies", n)
	if err != nil {
		return Company{}, err
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
	return psa.Collect(psa.ConvertSeq(query[wireCompany](ctx, c, op, "Companies", body), wireCompany.company))
}
