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

package plugin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLoopbackRedirect(t *testing.T) {
	tests := map[string]struct {
		uri     string
		wantErr string
	}{
		"the default":        {uri: DefaultRedirectURI},
		"localhost":          {uri: "http://localhost:9000/cb"},
		"IPv6 loopback":      {uri: "http://[::1]:9000/"},
		"another machine":    {uri: "http://10.0.0.5:8765/callback", wantErr: "must be on this machine"},
		"a host name":        {uri: "http://example.com:8765/callback", wantErr: "must be on this machine"},
		"https":              {uri: "https://127.0.0.1:8765/callback", wantErr: "must be an http:// URL"},
		"no port":            {uri: "http://127.0.0.1/callback", wantErr: "needs an explicit port"},
		"a fragment":         {uri: "http://127.0.0.1:8765/callback#x", wantErr: "must not have user information or a fragment"},
		"user information":   {uri: "http://u@127.0.0.1:8765/callback", wantErr: "must not have user information or a fragment"},
		"not a URL":          {uri: "http://127.0.0.1:87%65/", wantErr: "is not a URL"},
		"an unspecified IP":  {uri: "http://0.0.0.0:8765/callback", wantErr: "must be on this machine"},
		"a path is optional": {uri: "http://127.0.0.1:8765"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := loopbackRedirect(tc.uri)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("loopbackRedirect(%q) = %v, want %q", tc.uri, err, tc.wantErr)
			}
		})
	}
}

func TestCallbackHandler(t *testing.T) {
	const state = "STATE234567ABCDEFGHIJKLMNO"
	tests := map[string]struct {
		query      string
		wantStatus int
		wantCode   string
		wantErr    string
	}{
		"the code":                  {query: "code=c0de&scope=api&state=" + state, wantStatus: 200, wantCode: "c0de"},
		"another state":             {query: "code=c0de&state=OTHER", wantStatus: 400, wantErr: "its state does not match"},
		"no state":                  {query: "code=c0de", wantStatus: 400, wantErr: "its state does not match"},
		"an error with our state":   {query: "error=access_denied&error_description=declined&state=" + state, wantStatus: 400, wantErr: "Aprimo refused the sign-in: access_denied: declined"},
		"an error with another one": {query: "error=access_denied&state=OTHER", wantStatus: 400, wantErr: "its state does not match"},
		"a control character":       {query: "error=x%1b%5b31m&state=" + state, wantStatus: 400, wantErr: "Aprimo refused the sign-in: x?[31m"},
		"no code":                   {query: "state=" + state, wantStatus: 400, wantErr: "came back without a code"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			done := make(chan callback, 1)
			h := callbackHandler("/callback", state, done)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/callback?"+tc.query, nil))
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if strings.Contains(w.Body.String(), "c0de") || strings.Contains(w.Body.String(), "access_denied") {
				t.Errorf("the page echoes the request: %q", w.Body.String())
			}
			cb := <-done
			if cb.code != tc.wantCode || (tc.wantErr == "") != (cb.err == nil) || cb.err != nil && !strings.Contains(cb.err.Error(), tc.wantErr) {
				t.Errorf("callback = %q, %v; want %q, %q", cb.code, cb.err, tc.wantCode, tc.wantErr)
			}

			w = httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/callback?code=again&state="+state, nil))
			if w.Code != http.StatusConflict || len(done) != 0 {
				t.Errorf("a second callback: status %d, reported %v; want 409, not reported", w.Code, len(done) != 0)
			}
		})
	}
}

func TestCallbackHandlerIgnoresOtherPaths(t *testing.T) {
	done := make(chan callback, 1)
	h := callbackHandler("/callback", "s", done)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/favicon.ico", nil))
	if w.Code != http.StatusNotFound || len(done) != 0 {
		t.Errorf("status %d, reported %v; want 404, nothing reported", w.Code, len(done) != 0)
	}
}
