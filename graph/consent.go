package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/psasync/psasync/graph/directory"
)

// AdminConsentURL is the link a customer's administrator opens to consent to
// the app in their tenant: the Microsoft identity platform's v2 admin consent
// endpoint, https://{authority}/{tenant}/v2.0/adminconsent?client_id=...&
// scope=https://graph.microsoft.com/.default&redirect_uri=... (documented at
// https://learn.microsoft.com/entra/identity-platform/v2-admin-consent:
// application permissions need the static /.default scope, and redirect_uri
// is required and must exactly match one registered on the app). The
// redirect URI must be an absolute http(s) URL.
func (c *Client) AdminConsentURL(redirectURI string) (string, error) {
	u, err := url.Parse(redirectURI)
	if redirectURI == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("graph: admin consent URL: redirect URI %q is not an absolute http(s) URL registered on the app", redirectURI)
	}
	q := url.Values{
		"client_id":    {c.cfg.ClientID},
		"scope":        {c.origin + "/.default"},
		"redirect_uri": {redirectURI},
	}
	return strings.TrimRight(c.cfg.AuthorityHost, "/") + "/" + url.PathEscape(c.cfg.TenantID) + "/v2.0/adminconsent?" + q.Encode(), nil
}

// credentialCodes are the Entra codes that mean the app's own credentials
// are wrong (the same in every tenant): not a customer's consent.
var credentialCodes = map[int]string{
	7000215: "invalid client secret",
	7000222: "the client secret has expired",
	700027:  "the client assertion (certificate) was refused",
	700024:  "the client assertion is not within its valid time range",
}

// CheckConsent tells whether the app may work in the client's tenant (a
// customer's client from ForTenant): it gets an app-only token and reads one
// user (GET /users?$top=1&$select=id). A definitive "no" is a Consent with
// Granted false, a Reason, the Entra or Graph code and, where consent can
// help, the admin-consent URL for redirectURI. Errors are kept for what the
// customer cannot fix: a bad redirect URI, the app's own credentials
// refused, throttling or an unreachable Entra ID or Graph.
func (c *Client) CheckConsent(ctx context.Context, redirectURI string) (directory.Consent, error) {
	op := "graph: check consent in " + c.cfg.TenantID
	consentURL, err := c.AdminConsentURL(redirectURI)
	if err != nil {
		return directory.Consent{}, err
	}
	top := int32(1)
	info, err := c.users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: []string{"id"}, Top: &top},
	})
	if err != nil {
		return directory.Consent{}, classify(ctx, op, err)
	}
	_, err = c.getPage(ctx, op, info)
	if err == nil {
		return directory.Consent{TenantID: c.cfg.TenantID, Granted: true}, nil
	}
	refused := directory.Consent{TenantID: c.cfg.TenantID, AdminConsentURL: consentURL}
	if te, ok := tokenRefusal(err); ok {
		return c.tokenConsent(refused, te, err)
	}
	var ge *Error
	if errors.As(err, &ge) && (ge.StatusCode == http.StatusForbidden || ge.StatusCode == http.StatusUnauthorized) {
		refused.Code = ge.Code
		refused.Reason = fmt.Sprintf("the app gets a token in tenant %s but may not read users (HTTP %d %s): "+
			"admin consent for %s is missing or was revoked", c.cfg.TenantID, ge.StatusCode, ge.Code, directory.PermissionUserRead)
		return refused, nil
	}
	return directory.Consent{}, err
}

// tokenConsent judges a refused token request.
func (c *Client) tokenConsent(refused directory.Consent, te entraError, err error) (directory.Consent, error) {
	refused.Code = te.code()
	t := c.cfg.TenantID
	switch aadsts := te.first(); {
	case credentialCodes[aadsts] != "":
		return directory.Consent{}, fmt.Errorf("graph: check consent in %s: the app's credentials were refused (%s, %s); fix client_secret or the certificate: %w",
			t, refused.Code, credentialCodes[aadsts], err)
	case aadsts == 65001:
		refused.Reason = fmt.Sprintf("no administrator of tenant %s has consented to the app (AADSTS65001); send them the admin consent URL", t)
	case aadsts == 700016:
		refused.Reason = fmt.Sprintf("the app is not registered in tenant %s (AADSTS700016: no service principal yet); an administrator creates it by consenting", t)
	case aadsts == 90002 || aadsts == 90023:
		refused.Reason = fmt.Sprintf("tenant %s does not exist in this cloud (%s)", t, refused.Code)
		refused.AdminConsentURL = ""
	case aadsts == 7000112:
		refused.Reason = fmt.Sprintf("the app is disabled in tenant %s (AADSTS7000112); an administrator must enable its enterprise application", t)
	default:
		refused.Reason = fmt.Sprintf("Entra ID refused a token for tenant %s (%s %s): %s", t, refused.Code, te.Error, te.summary())
	}
	return refused, nil
}

// entraError is the token endpoint's error JSON.
type entraError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
}

// first is the main AADSTS code, 0 when none was sent.
func (e entraError) first() int {
	if len(e.Codes) == 0 {
		return 0
	}
	return e.Codes[0]
}

// code renders the main code as "AADSTS65001", or the OAuth error name.
func (e entraError) code() string {
	if n := e.first(); n != 0 {
		return "AADSTS" + strconv.Itoa(n)
	}
	return e.Error
}

// summary is the description's first line (Entra appends trace ids).
func (e entraError) summary() string {
	line, _, _ := strings.Cut(e.Description, "\n")
	return strings.TrimSpace(line)
}

// tokenRefusal finds the token endpoint's definitive 4xx refusal (not a
// throttle) in err and decodes its body.
func tokenRefusal(err error) (entraError, bool) {
	var authErr *azidentity.AuthenticationFailedError
	if !errors.As(err, &authErr) || authErr.RawResponse == nil {
		return entraError{}, false
	}
	status := authErr.RawResponse.StatusCode
	if status < 400 || status >= 500 || status == http.StatusTooManyRequests {
		return entraError{}, false
	}
	body, perr := runtime.Payload(authErr.RawResponse)
	var te entraError
	if perr != nil || json.Unmarshal(body, &te) != nil || (te.Error == "" && len(te.Codes) == 0) {
		return entraError{Error: http.StatusText(status)}, true
	}
	return te, true
}
