package connectwise_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/internal/cwspec"
)

// TestContractValidatorIsNotVacuous shows that the OpenAPI checks every
// other test runs in its cleanup do fail on contract violations, and that
// the workarounds admit only the document's listed defects.
func TestContractValidatorIsNotVacuous(t *testing.T) {
	t.Parallel()
	const base = "http://cw.test" + "/v4_6_release/apis/3.0"
	ctx := context.Background()
	v, err := cwspec.Load(ctx, specPath, base)
	require.NoError(t, err)

	vendorJSON := http.Header{"Content-Type": {"application/vnd.connectwise.com+json; version=2025.1"}}
	jsonBody := http.Header{"Content-Type": {"application/json"}}
	contact := []byte(`{"id":5,"firstName":"Ann","company":{"id":1},"communicationItems":[{"id":9,"type":{"id":1,"name":"Email"},"value":"a@b.c","defaultFlag":true,"communicationType":"Email"}],"customFields":[{"id":1,"caption":"M365 Object ID","type":"Text","value":null}],"_info":{"lastUpdated":"2025-01-01T00:00:00Z"}}`)

	tests := []struct {
		name    string
		ex      cwspec.Exchange
		wantErr bool
	}{
		{name: "patch with string, bool, object and array values passes (relaxed PatchOperation.value)", ex: cwspec.Exchange{
			Method: http.MethodPatch, URL: base + "/company/contacts/5", Header: jsonBody,
			Body:   []byte(`[{"op":"replace","path":"title","value":"CFO"},{"op":"replace","path":"inactiveFlag","value":true},{"op":"replace","path":"department","value":{"id":3}},{"op":"replace","path":"customFields","value":[{"id":1,"value":"x"}]}]`),
			Status: 200, ResponseHeader: vendorJSON, ResponseBody: contact}},
		{name: "patch body that is not an array", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodPatch, URL: base + "/company/contacts/5", Header: jsonBody,
			Body:   []byte(`{"op":"replace","path":"title","value":"CFO"}`),
			Status: 200, ResponseHeader: vendorJSON, ResponseBody: contact}},
		{name: "non-numeric id", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/abc", Status: 200, ResponseHeader: vendorJSON, ResponseBody: contact}},
		{name: "non-numeric pageSize", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts?pageSize=all", Status: 200, ResponseHeader: vendorJSON, ResponseBody: []byte(`[]`)}},
		{name: "operation the document does not have", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodDelete, URL: base + "/company/contacts/5", Status: 204}},
		{name: "contact whose id is a string", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/5", Status: 200, ResponseHeader: vendorJSON,
			ResponseBody: []byte(`{"id":"five","firstName":"Ann"}`)}},
		{name: "list answered with an object", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts", Status: 200, ResponseHeader: vendorJSON, ResponseBody: contact}},
		{name: "answer in plain application/json", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/5", Status: 200, ResponseHeader: jsonBody, ResponseBody: contact}},
		{name: "create answered 200 instead of 201", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodPost, URL: base + "/company/contacts", Header: jsonBody, Body: []byte(`{"firstName":"Ann","company":{"id":1}}`),
			Status: 200, ResponseHeader: vendorJSON, ResponseBody: contact}},
		{name: "create without a body", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodPost, URL: base + "/company/contacts", Header: jsonBody, Status: 201, ResponseHeader: vendorJSON, ResponseBody: contact}},
		{name: "vendor error JSON passes", ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/5", Status: 404, ResponseHeader: vendorJSON,
			ResponseBody: []byte(`{"code":"NotFound","message":"Contact with id 5 was not found."}`)}},
		{name: "error without code", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/5", Status: 400, ResponseHeader: vendorJSON,
			ResponseBody: []byte(`{"message":"bad"}`)}},
		{name: "error whose errors[] is not an array", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/5", Status: 400, ResponseHeader: vendorJSON,
			ResponseBody: []byte(`{"code":"InvalidObject","message":"bad","errors":"oops"}`)}},
		{name: "HTML error page", wantErr: true, ex: cwspec.Exchange{
			Method: http.MethodGet, URL: base + "/company/contacts/5", Status: 502, ResponseBody: []byte(`<html></html>`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := v.Validate(ctx, tc.ex)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}
		})
	}
}
