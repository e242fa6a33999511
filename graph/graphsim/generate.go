package graphsim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
)

// Well-known SKU ids of Microsoft 365 licenses, used for generated users.
const (
	// SkuBusinessPremium is Microsoft 365 Business Premium.
	SkuBusinessPremium = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46"
	// SkuOfficeE3 is Office 365 E3.
	SkuOfficeE3 = "6fd2c87f-b296-42f0-b197-1e91e994b900"
	// SkuM365E5 is Microsoft 365 E5.
	SkuM365E5 = "06ebc4ee-1bb5-47dd-8120-11324bc54e06"
	// SkuExchangePlan1 is Exchange Online (Plan 1).
	SkuExchangePlan1 = "4b9405b0-7788-4568-add1-99614e613b69"
)

// Kinds of generated user, chosen by position so that every tenant of 50 or
// more users has all of them (and smaller ones most).
const (
	kindMember = iota
	kindGuest
	kindDisabled
	kindNoPhone
	kindDisplayNameOnly
	kindSharedMailbox
	kindServiceAccount
	kindAdminAccount
)

// Name pools, in a fixed order: the same seed gives the same users.
var (
	genFirst       = strings.Fields("Adele Alex Allan Bianca Brian Camille Carlos Chen Diego Elena Emily Fatima Grady Hannah Henrietta Isaiah Ingrid Johanna Joni Kenji Lee Lidia Lynne Megan Miriam Nestor Olga Patti Pradeep Quentin Raul Sakura Sofia Tomasz Uma Victor Wanda Xavier Yusuf Zoe")
	genLast        = strings.Fields("Vance Wilber Deyoung Pires Johnson Santos Mendez Wei Garcia Petrova Braun Khan Archie Lee Gonzalez Okafor Nilsen Meyer Sherman Tanaka Gu Holloway Robbins Bowen Hernandez Wilke Ivanova Fernandez Gupta Dubois Ortega Sato Rossi Kowalski Patel Nguyen Brooks Laurent Demir Fischer")
	genDepartments = []string{"Sales", "Engineering", "Finance", "Human Resources", "Support", "Marketing", "Operations", "IT"}
	genTitles      = map[string][]string{
		"Sales":           {"Account Executive", "Sales Manager", "Inside Sales Representative"},
		"Engineering":     {"Software Engineer", "Senior Software Engineer", "Engineering Manager"},
		"Finance":         {"Accountant", "Financial Analyst", "Controller"},
		"Human Resources": {"HR Generalist", "Recruiter", "HR Director"},
		"Support":         {"Support Engineer", "Service Desk Analyst", "Support Lead"},
		"Marketing":       {"Marketing Specialist", "Content Manager", "Marketing Director"},
		"Operations":      {"Operations Coordinator", "Logistics Manager", "COO"},
		"IT":              {"Systems Administrator", "Network Engineer", "IT Manager"},
	}
	genOffices = []struct{ office, city, country, prefix string }{
		{"London HQ", "London", "United Kingdom", "+44 20 7946"},
		{"New York", "New York", "United States", "+1 212 555"},
		{"Seattle", "Seattle", "United States", "+1 206 555"},
		{"Berlin", "Berlin", "Germany", "+49 30 901820"},
		{"Sydney", "Sydney", "Australia", "+61 2 9876"},
		{"Remote", "", "United States", "+1 425 555"},
	}
	genShared   = []string{"Sales", "Info", "Support", "Accounts Payable", "Reception", "Careers", "Marketing Events", "Facilities"}
	genServices = []string{"backup", "scanner", "sync", "monitoring", "printer", "crm", "sql", "deploy"}
	genSkus     = []string{SkuBusinessPremium, SkuOfficeE3, SkuM365E5, SkuExchangePlan1}
	genGuestOrg = []string{"fabrikam.com", "northwindtraders.com", "adatum.net", "tailspintoys.org"}
)

// Domains returns the verified custom domain and the initial
// .onmicrosoft.com domain of a generated tenant.
func Domains(tenantID string) (verified, initial string) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(tenantID))
	k := h.Sum32() % 10000
	return fmt.Sprintf("contoso-%d.com", k), fmt.Sprintf("contoso%d.onmicrosoft.com", k)
}

// Generate returns n deterministic users for tenantID (the same inputs give
// the same users) with the variety MSPs meet: disabled users, #EXT# guests,
// svc-* and admin* service accounts, unlicensed shared mailboxes, users
// without phones or with only a displayName, several departments and
// offices, and proxyAddresses aliases.
func Generate(tenantID string, n int, seed int64) []User {
	h := fnv.New64a()
	_, _ = h.Write([]byte(tenantID))
	rng := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	verified, initial := Domains(tenantID)
	company := "Contoso " + strings.TrimSuffix(strings.TrimPrefix(verified, "contoso-"), ".com")
	usedUPN := make(map[string]bool, n)
	users := make([]User, 0, n)
	unique := func(local, domain string) string {
		upn := local + "@" + domain
		for i := 2; usedUPN[strings.ToLower(upn)]; i++ {
			upn = fmt.Sprintf("%s%d@%s", local, i, domain)
		}
		usedUPN[strings.ToLower(upn)] = true
		return upn
	}
	for i := 0; i < n; i++ {
		id := genGUID(rng)
		first := genFirst[rng.IntN(len(genFirst))]
		last := genLast[rng.IntN(len(genLast))]
		dept := genDepartments[rng.IntN(len(genDepartments))]
		titles := genTitles[dept]
		title := titles[rng.IntN(len(titles))]
		office := genOffices[rng.IntN(len(genOffices))]
		sku := genSkus[rng.IntN(len(genSkus))]
		hasMobile := rng.IntN(10) < 6
		hasBusiness := rng.IntN(10) < 8
		withAlias := rng.IntN(4) == 0
		u := User{
			ID:             id,
			CompanyName:    company,
			UserType:       "Member",
			AccountEnabled: Bool(true),
		}
		switch genKind(i) {
		case kindGuest:
			org := genGuestOrg[rng.IntN(len(genGuestOrg))]
			local := strings.ToLower(first + "." + last)
			u.UserPrincipalName = unique(local+"_"+org+"#EXT#", initial)
			u.DisplayName = first + " " + last
			u.GivenName, u.Surname = first, last
			u.Mail = local + "@" + org
			u.OtherMails = []string{u.Mail}
			u.UserType = "Guest"
			u.CompanyName = ""
		case kindSharedMailbox:
			name := genShared[(i/20)%len(genShared)]
			local := strings.ToLower(strings.ReplaceAll(name, " ", ""))
			u.UserPrincipalName = unique(local, verified)
			u.DisplayName = name
			u.Mail = u.UserPrincipalName
			u.AccountEnabled = Bool(false)
			u.ProxyAddresses = []string{"SMTP:" + u.Mail, "smtp:" + strings.Split(u.UserPrincipalName, "@")[0] + "@" + initial}
		case kindServiceAccount:
			name := "svc-" + genServices[(i/50)%len(genServices)]
			u.UserPrincipalName = unique(name, verified)
			u.DisplayName = name
			u.Department = "IT"
		case kindAdminAccount:
			local := "admin." + strings.ToLower(first)
			if i%100 < 50 {
				local = "admin"
			}
			u.UserPrincipalName = unique(local, initial)
			u.DisplayName = "Admin " + first
			u.AssignedLicenses = []AssignedLicense{{SkuID: SkuM365E5}}
		default:
			local := strings.ToLower(first + "." + last)
			u.UserPrincipalName = unique(local, verified)
			u.DisplayName = first + " " + last
			u.GivenName, u.Surname = first, last
			u.Mail = u.UserPrincipalName
			u.JobTitle = title
			u.Department = dept
			u.OfficeLocation = office.office
			u.City, u.Country = office.city, office.country
			u.EmployeeID = fmt.Sprintf("E%05d", i+1)
			u.AssignedLicenses = []AssignedLicense{{SkuID: sku}}
			if hasBusiness {
				u.BusinessPhones = []string{fmt.Sprintf("%s %04d", office.prefix, rng.IntN(10000))}
			}
			if hasMobile || !hasBusiness {
				u.MobilePhone = fmt.Sprintf("+1 555 %03d %04d", rng.IntN(1000), rng.IntN(10000))
			}
			if withAlias {
				local := strings.Split(u.UserPrincipalName, "@")[0]
				u.ProxyAddresses = []string{
					"SMTP:" + u.Mail,
					"smtp:" + strings.ToLower(first[:1]+last) + "@" + verified,
					"smtp:" + local + "@" + initial,
				}
			}
			switch genKind(i) {
			case kindDisabled:
				u.AccountEnabled = Bool(false)
			case kindNoPhone:
				u.BusinessPhones, u.MobilePhone = nil, ""
			case kindDisplayNameOnly:
				u.GivenName, u.Surname, u.JobTitle = "", "", ""
				u.BusinessPhones, u.MobilePhone = nil, ""
			}
		}
		users = append(users, u)
	}
	return users
}

// genKind picks the kind of the ith generated user.
func genKind(i int) int {
	switch {
	case i%50 == 19:
		return kindServiceAccount
	case i%50 == 43:
		return kindAdminAccount
	}
	switch i % 20 {
	case 3:
		return kindGuest
	case 7:
		return kindDisabled
	case 11:
		return kindNoPhone
	case 13:
		return kindDisplayNameOnly
	case 17:
		return kindSharedMailbox
	}
	return kindMember
}

// genGUID draws a version-4 GUID from rng.
func genGUID(rng *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
