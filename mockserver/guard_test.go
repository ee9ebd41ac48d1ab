package mockserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecoverPanicsAnswersInTheAPIShape(t *testing.T) {
	t.Parallel()
	var reported any
	h := recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		func(_ *http.Request, p any, _ []byte) { reported = p })
	tests := []struct {
		path   string
		status int
		key    string
		want   string
	}{
		{"/oauth/register_native", http.StatusOK, "error", "unexpected_error"},
		{"/oauth/api/v3/custom-registration/ExampleId/backchannel", http.StatusInternalServerError, "error", "internal_server_error"},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, tc.path, nil))
		var body map[string]any
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != tc.status || body[tc.key] != tc.want {
			t.Errorf("%s: %d %s", tc.path, rec.Code, rec.Body)
		}
	}
	if reported != "boom" {
		t.Errorf("reported = %v", reported)
	}
}

// TestOversizedBodies: 413 in each API's shape, whether the length is
// announced or not.
func TestOversizedBodies(t *testing.T) {
	t.Parallel()
	srv := newInternalServer(t)
	big := "emailAddress=" + strings.Repeat("a", 2<<20)
	tests := []struct {
		name, path, contentType string
		chunked                 bool
		key, want               string
	}{
		{"capture with length", "/oauth/register_native_traditional", "application/x-www-form-urlencoded", false, "stat", "error"},
		{"capture chunked", "/oauth/register_native_traditional", "application/x-www-form-urlencoded", true, "stat", "error"},
		{"onegini with length", "/oauth/api/v3/custom-registration/ExampleId/backchannel", "application/json", false, "error", "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(big))
			req.Header.Set("Content-Type", tc.contentType)
			if tc.chunked {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			var body map[string]any
			json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusRequestEntityTooLarge || body[tc.key] != tc.want {
				t.Errorf("%d %.200s", rec.Code, rec.Body)
			}
		})
	}
}
