package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Bounds of the runs API.
const (
	// defaultRunsLimit is GET /api/v1/runs without ?limit.
	defaultRunsLimit = 20
	// maxRunsLimit caps ?limit; larger values are lowered to it.
	maxRunsLimit = 100
	// maxRunIDLength bounds a run id in the path; longer ids are 404.
	maxRunIDLength = 128
	// maxCompanyIDLength bounds a string company_id.
	maxCompanyIDLength = 64
	// maxFieldNameEcho bounds an unknown field name quoted back in a 400.
	maxFieldNameEcho = 64
)

// startSyncResponse is the 202 body of POST /api/v1/sync.
type startSyncResponse struct {
	RunID string `json:"run_id"`
}

// handleStartSync serves POST /api/v1/sync: decode and validate the run
// inputs (an empty body means all defaults), start the run, answer 202 with
// its id and Location.
func (s *Server) handleStartSync(c *gin.Context) {
	var req SyncRequest
	if !s.readObject(c, func(body []byte) (err error) {
		req, err = decodeSyncRequest(body)
		return err
	}) {
		return
	}
	id, err := s.cfg.Runs.StartRun(c.Request.Context(), req)
	if err != nil {
		// A refusal's text goes to the caller as Runs wrote it, without our
		// prefix; other errors get the prefix for the logs.
		if !errors.Is(err, ErrBadRequest) {
			err = fmt.Errorf("webhook: start run: %w", err)
		}
		s.writeError(c, err)
		return
	}
	if id == "" {
		s.writeError(c, errors.New("webhook: start run: Runs returned an empty run id"))
		return
	}
	c.Header("Location", "/api/v1/runs/"+url.PathEscape(id))
	c.JSON(http.StatusAccepted, startSyncResponse{RunID: id})
}

// handleGetRun serves GET /api/v1/runs/{id}: the stored run record as the
// Runs implementation wrote it.
func (s *Server) handleGetRun(c *gin.Context) {
	id := c.Param("id")
	if id == "" || len(id) > maxRunIDLength {
		s.writeError(c, errNotFound)
		return
	}
	raw, ok, err := s.cfg.Runs.GetRun(c.Request.Context(), id)
	switch {
	case err != nil:
		s.writeError(c, fmt.Errorf("webhook: get run %q: %w", id, err))
	case !ok:
		s.writeError(c, errNotFound)
	default:
		s.writeRawJSON(c, raw, "get run")
	}
}

// handleListRuns serves GET /api/v1/runs?limit=N (default 20, at most 100),
// from the run history with its filters when Config.RunHistory is set.
func (s *Server) handleListRuns(c *gin.Context) {
	if s.cfg.RunHistory != nil {
		s.listRunHistory(c)
		return
	}
	limit := defaultRunsLimit
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(c, &RequestError{Message: `query parameter "limit" must be a positive integer`})
			return
		}
		limit = min(n, maxRunsLimit)
	}
	raw, err := s.cfg.Runs.ListRuns(c.Request.Context(), limit)
	if err != nil {
		s.writeError(c, fmt.Errorf("webhook: list runs: %w", err))
		return
	}
	s.writeRawJSON(c, raw, "list runs")
}

// writeRawJSON passes a stored JSON document through, refusing one that is
// not valid JSON rather than sending it.
func (s *Server) writeRawJSON(c *gin.Context, raw json.RawMessage, op string) {
	if !json.Valid(raw) {
		s.writeError(c, fmt.Errorf("webhook: %s: Runs returned invalid JSON (%d bytes)", op, len(raw)))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
}

// decodeSyncRequest decodes the run inputs as given. Field names are
// matched exactly (decodeObject) and an unknown one is a 400 naming it; a
// value of the wrong type is a 400 naming the field and the expected type.
func decodeSyncRequest(body []byte) (SyncRequest, error) {
	var req SyncRequest
	fields, err := decodeObject(body)
	if err != nil {
		return SyncRequest{}, err
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		raw := fields[k]
		switch k {
		case "tenant":
			err = decodeField(k, "a string", raw, &req.Tenant)
		case "sync_mode":
			err = decodeField(k, "a string", raw, &req.SyncMode)
		case "company_id":
			req.CompanyID, err = decodeCompanyID(raw)
		case "department_filter":
			err = decodeStringList(k, raw, &req.DepartmentFilter)
		case "office_location_filter":
			err = decodeStringList(k, raw, &req.OfficeLocationFilter)
		case "user_principal_names":
			err = decodeStringList(k, raw, &req.UserPrincipalNames)
		case "skip_disabled_users":
			err = decodeField(k, "a boolean", raw, &req.SkipDisabledUsers)
		case "update_existing":
			err = decodeField(k, "a boolean", raw, &req.UpdateExisting)
		case "dry_run":
			err = decodeField(k, "a boolean", raw, &req.DryRun)
		case "list_skipped":
			err = decodeField(k, "a boolean", raw, &req.ListSkipped)
		default:
			err = &RequestError{Message: fmt.Sprintf("unknown field %q", clip(k, maxFieldNameEcho))}
		}
		if err != nil {
			return SyncRequest{}, err
		}
	}
	return req, nil
}

// bodyErrorMessage describes why the body is not a JSON object, without
// quoting it.
func bodyErrorMessage(err error) string {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("request body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.As(err, &typeErr):
		return "request body must be a JSON object"
	default:
		return "request body is not valid JSON"
	}
}

// decodeField decodes one field's value; null leaves the default. A type
// mismatch names the field and what it must be.
func decodeField(name, want string, raw json.RawMessage, dst any) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("decode %s: %w: %w", name,
				&RequestError{Message: fmt.Sprintf("field %q must be %s, got %s", name, want, typeErr.Value)}, err)
		}
		return fmt.Errorf("decode %s: %w: %w", name, &RequestError{Message: fmt.Sprintf("field %q is not valid JSON", name)}, err)
	}
	return nil
}

// decodeStringList decodes an array of non-blank strings.
func decodeStringList(name string, raw json.RawMessage, dst *[]string) error {
	if err := decodeField(name, "an array of strings", raw, dst); err != nil {
		return err
	}
	for _, v := range *dst {
		if strings.TrimSpace(v) == "" {
			return &RequestError{Message: fmt.Sprintf("field %q must not contain empty strings", name)}
		}
	}
	return nil
}

// decodeCompanyID accepts a positive integer or a string (PSA company ids
// are numbers, but workflow inputs often arrive as strings); null is unset.
func decodeCompanyID(raw json.RawMessage) (string, error) {
	bad := &RequestError{Message: `field "company_id" must be a positive integer or a string`}
	v := bytes.TrimSpace(raw)
	switch {
	case len(v) == 0:
		return "", bad
	case string(v) == "null":
		return "", nil
	case v[0] == '"':
		var str string
		if err := json.Unmarshal(v, &str); err != nil {
			return "", fmt.Errorf("decode company_id: %w: %w", bad, err)
		}
		str = strings.TrimSpace(str)
		if len(str) > maxCompanyIDLength || strings.IndexFunc(str, unicode.IsControl) >= 0 {
			return "", &RequestError{Message: fmt.Sprintf(`field "company_id" must be at most %d printable characters`, maxCompanyIDLength)}
		}
		return str, nil
	default:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n <= 0 {
			return "", bad
		}
		return strconv.FormatInt(n, 10), nil
	}
}

// clip shortens s to at most n bytes (on a rune boundary) for echoing.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
