package connectwise

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinkNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, want string
	}{
		{``, ``},
		{`<https://x/a?pageId=9>; rel="next"`, `https://x/a?pageId=9`},
		{`<https://x/a?page=1>; rel="first", <https://x/a?page=3>; rel="next", <https://x/a?page=9>; rel="last"`, `https://x/a?page=3`},
		{`<https://x/a?page=9>; rel="last"`, ``},
		{`<https://x/a?conditions=company%2Fid%3D1,x>;rel=next`, `https://x/a?conditions=company%2Fid%3D1,x`},
		{`<https://x/a?p=2>; title="n"; rel="prefetch next"`, `https://x/a?p=2`},
		{`<https://x/a?p=2>; rel="nextpage"`, ``},
		{`<broken`, ``},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, linkNext(tc.header), tc.header)
	}
}

func TestNextPageStaysOnTheSite(t *testing.T) {
	t.Parallel()
	c, err := New(Config{SiteURL: "https://na.myconnectwise.net", CompanyID: "a", PublicKey: "b", PrivateKey: "c", ClientID: "d"})
	require.NoError(t, err)
	cur, err := url.Parse("https://na.myconnectwise.net/v4_6_release/apis/3.0/company/contacts?pageSize=1000")
	require.NoError(t, err)
	link := func(v string) http.Header { return http.Header{"Link": {v}} }

	next, err := c.nextPage(link(`<https://SERVCWAPI01/v4_6_release/apis/3.0/company/contacts?pageSize=1000&pageId=77>; rel="next"`), cur)
	require.NoError(t, err)
	require.Equal(t, "https://na.myconnectwise.net/v4_6_release/apis/3.0/company/contacts?pageSize=1000&pageId=77", next.String(),
		"the host a link names is never contacted")

	next, err = c.nextPage(link(`</v4_6_release/apis/3.0/company/contacts?pageId=78>; rel="next"`), cur)
	require.NoError(t, err)
	require.Equal(t, "https://na.myconnectwise.net/v4_6_release/apis/3.0/company/contacts?pageId=78", next.String())

	_, err = c.nextPage(link(`<https://evil.example/steal?x=1>; rel="next"`), cur)
	require.ErrorContains(t, err, "leaves the API path")

	next, err = c.nextPage(http.Header{"Link": {""}}, cur)
	require.NoError(t, err)
	require.Nil(t, next)
	next, err = c.nextPage(http.Header{}, cur)
	require.NoError(t, err)
	require.Nil(t, next)
}
