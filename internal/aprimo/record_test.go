/*
Copyright 2026 The aprimo-credential-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package aprimo

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const recordID = "8d2ba7a3c5e94b0a9f1eb0c2a1d3e4f5"

func TestGetRecordRequest(t *testing.T) {
	var got *http.Request
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"`+recordID+`","title":"Spring campaign hero","status":"Released","contentType":"Image"}`)
	}))
	defer ts.Close()
	c := NewClient(Options{Hosts: HostAllowlist{"127.0.0.1"}, Transport: ts.Client().Transport})

	a, err := c.GetRecord(t.Context(), ts.URL+"/", testAccess, recordID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodGet || got.URL.Path != "/api/core/record/"+recordID {
		t.Errorf("request = %s %s", got.Method, got.URL.Path)
	}
	if got.Header.Get("API-VERSION") != "1" || got.Header.Get("Authorization") != "Bearer "+testAccess {
		t.Errorf("headers API-VERSION=%q Authorization set=%v", got.Header.Get("API-VERSION"), got.Header.Get("Authorization") != "")
	}
	want := RecordAnswer{URL: ts.URL + "/api/core/record/" + recordID, StatusCode: 200, Title: "Spring campaign hero", Status: "Released"}
	if *a != want {
		t.Errorf("answer = %+v, want %+v", *a, want)
	}
}

func TestGetRecordAnswers(t *testing.T) {
	tests := map[string]struct {
		status      int
		contentType string
		body        string
		want        RecordAnswer
		wantErr     string
	}{
		"401 with an empty body is an answer": {status: 401, want: RecordAnswer{StatusCode: 401}},
		"404 is an answer":                    {status: 404, body: `{"message":"not found"}`, want: RecordAnswer{StatusCode: 404}},
		"fields are cleaned for a terminal": {
			status: 200, body: `{"title":"a\u001b[31m red\nline","status":42}`,
			want: RecordAnswer{StatusCode: 200, Title: "a?[31m red line", Status: "42"},
		},
		"a field quoting the token is dropped": {
			status: 200, body: `{"title":"` + testAccess + `","status":"Draft"}`,
			want: RecordAnswer{StatusCode: 200, Status: "Draft"},
		},
		"long titles are cut": {
			status: 200, body: `{"title":"` + strings.Repeat("é", 300) + `"}`,
			want: RecordAnswer{StatusCode: 200, Title: strings.Repeat("é", 200) + "…"},
		},
		"an HTML 200 is an error": {
			status: 200, contentType: "text/html", body: "<html>sign in</html>",
			want: RecordAnswer{StatusCode: 200}, wantErr: "without a JSON record",
		},
		"a redirect is not followed": {status: 302, want: RecordAnswer{StatusCode: 302}, wantErr: "a redirect that is not followed"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status == 302 {
					http.Redirect(w, r, "https://elsewhere.example.com/?t="+testAccess, 302)
					return
				}
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer ts.Close()
			c := NewClient(Options{Hosts: HostAllowlist{"127.0.0.1"}, Transport: ts.Client().Transport})

			a, err := c.GetRecord(t.Context(), ts.URL, testAccess, recordID)
			assertNoLeak(t, err, testAccess)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			tc.want.URL = ts.URL + RecordPath + recordID
			if a == nil || *a != tc.want {
				t.Errorf("answer = %+v, want %+v", a, tc.want)
			}
		})
	}
}

func TestGetRecordSendsNothingWhenRefused(t *testing.T) {
	tests := map[string]struct{ base, id, wantErr string }{
		"host not allowed": {base: "https://acme.dam.example.com", id: recordID, wantErr: `DAM API host "acme.dam.example.com" is not allowed`},
		"http":             {base: "http://127.0.0.1:1", id: recordID, wantErr: "must use https"},
		"a path in the ID": {base: "https://127.0.0.1:1", id: "../../login", wantErr: "a record ID is letters, digits"},
		"empty ID":         {base: "https://127.0.0.1:1", id: "", wantErr: "a record ID is letters, digits"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := NewClient(Options{Hosts: HostAllowlist{"127.0.0.1", "*.aprimo.com"}})
			_, err := c.GetRecord(t.Context(), tc.base, testAccess, tc.id)
			var e *Error
			if !errors.As(err, &e) || e.Sent || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q with nothing sent", err, tc.wantErr)
			}
		})
	}
}

func TestDAMBaseURLFor(t *testing.T) {
	tests := map[string]struct {
		base, want string
		ok         bool
	}{
		"tenant URL":         {base: "https://acme.aprimo.com", want: "https://acme.dam.aprimo.com", ok: true},
		"with a path":        {base: "https://Acme.aprimo.com/", want: "https://acme.dam.aprimo.com", ok: true},
		"not aprimo.com":     {base: "https://aprimo.example.com"},
		"a deeper subdomain": {base: "https://x.acme.aprimo.com"},
		"with a port":        {base: "https://127.0.0.1:8443"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := DAMBaseURLFor(tc.base)
			if got != tc.want || ok != tc.ok {
				t.Errorf("DAMBaseURLFor(%q) = %q, %v; want %q, %v", tc.base, got, ok, tc.want, tc.ok)
			}
		})
	}
}
