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
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// recorded is one request a test server saw.
type recorded struct {
	method, path, body string
	header             http.Header
}

// answering returns a server that answers every request with status and body,
// and the requests it saw.
func answering(t *testing.T, status int, body string) (*httptest.Server, *[]recorded) {
	t.Helper()
	var seen []recorded
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, recorded{method: r.Method, path: r.URL.EscapedPath(), body: string(b), header: r.Header.Clone()})
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts, &seen
}

// testJWT returns an unsigned-looking JWT with the given claims.
func testJWT(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2lnbmF0dXJl"
}

func TestDistributedMarketingSendsTheDocumentedForm(t *testing.T) {
	ts, seen := answering(t, 200, `{"access_token":"`+testAccess+`","token_type":"bearer","expires_in":3599}`)
	c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
	tok, err := c.DistributedMarketing(t.Context(), ts.URL, "1BGEBC9E-A76D-4B85-936F-CFDBE412E8A5", testUser, testUserToken)
	if err != nil {
		t.Fatalf("DistributedMarketing: %v", err)
	}
	r := (*seen)[0]
	if r.method != http.MethodPost || r.path != DMTokenPath {
		t.Errorf("request = %s %s, want POST %s", r.method, r.path, DMTokenPath)
	}
	want := "UserName=" + url.QueryEscape(testUser) + "&Password=" + url.QueryEscape(testUserToken) +
		"&grant_type=password&client_id=1BGEBC9E-A76D-4B85-936F-CFDBE412E8A5"
	if r.body != want {
		t.Errorf("body = %q\nwant   %q", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", ct)
	}
	if a := r.header.Get("Authorization"); a != "" {
		t.Errorf("Authorization header sent: %q", a)
	}
	if tok.AccessToken != testAccess || tok.Lifetime() != 3599*time.Second {
		t.Errorf("token = %q for %s, want the access token for 3599s", tok.AccessToken, tok.Lifetime())
	}
}

func TestDistributedMarketingRefusalsAreTyped(t *testing.T) {
	ts, _ := answering(t, 400, `{"error":"invalid_grant","error_description":"The user name or password is incorrect."}`)
	c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
	_, err := c.DistributedMarketing(t.Context(), ts.URL, testClientID, testUser, testUserToken)
	if ClassOf(err) != ClassInvalidGrant {
		t.Errorf("class = %q, want %q (%v)", ClassOf(err), ClassInvalidGrant, err)
	}
	assertNoLeak(t, err, allSecrets...)
}

func TestLegacyRequests(t *testing.T) {
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(testUser+":"+testUserToken))
	tests := map[string]struct {
		call       func(c *Client, base string) error
		method     string
		path       string
		body       string
		authHeader string
		json       bool
	}{
		"create-native-token sends client-id and Basic user:usertoken": {
			call: func(c *Client, base string) error {
				_, err := c.LegacyNativeToken(t.Context(), base, testClientID, testUser, testUserToken)
				return err
			},
			method: http.MethodPost, path: LegacyNativeTokenPath, authHeader: basic, json: true,
		},
		"refresh sends client-id and the refresh token in JSON": {
			call: func(c *Client, base string) error {
				_, err := c.LegacyRefresh(t.Context(), base, testClientID, testRefresh)
				return err
			},
			method: http.MethodPost, path: LegacyRefreshPath, body: `{"refreshToken":"` + testRefresh + `"}`, json: true,
		},
		"revoke deletes with the access token": {
			call: func(c *Client, base string) error {
				return c.LegacyRevoke(t.Context(), base, testClientID, testAccess, "user 42")
			},
			method: http.MethodDelete, path: LegacyRevokePath + "user%2042", authHeader: "Bearer " + testAccess,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ts, seen := answering(t, 200, `{"accessToken":"`+testAccess+`","refreshToken":"`+testRefresh+`"}`)
			c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
			if err := tc.call(c, ts.URL); err != nil {
				t.Fatalf("call failed: %v", err)
			}
			r := (*seen)[0]
			if r.method != tc.method || r.path != tc.path {
				t.Errorf("request = %s %s, want %s %s", r.method, r.path, tc.method, tc.path)
			}
			if got := r.header.Get("client-id"); got != testClientID {
				t.Errorf("client-id = %q", got)
			}
			if got := r.header.Get("Authorization"); got != tc.authHeader {
				t.Errorf("Authorization = %q, want %q", got, tc.authHeader)
			}
			if ct := r.header.Get("Content-Type"); tc.json && ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if r.body != tc.body {
				t.Errorf("body = %q, want %q", r.body, tc.body)
			}
		})
	}
}

func TestLegacyResponseShapes(t *testing.T) {
	exp := t0.Add(7 * time.Minute).Unix()
	jwt := testJWT(fmt.Sprintf(`{"sub":"jdoe","exp":%d}`, exp))
	jwtIat := testJWT(`{"sub":"jdoe","iat":1000,"exp":1300}`) // 5 minutes by the server's clock
	tests := map[string]struct {
		body        string
		wantAccess  string
		wantRefresh string
		wantLife    time.Duration
		wantErr     bool
	}{
		"camelCase without a lifetime: the documented 10 minutes": {
			body:       `{"accessToken":"` + testAccess + `","refreshToken":"` + testRefresh + `"}`,
			wantAccess: testAccess, wantRefresh: testRefresh, wantLife: 10 * time.Minute,
		},
		"snake_case with expires_in": {
			body:       `{"access_token":"` + testAccess + `","refresh_token":"` + testRefresh + `","expires_in":600}`,
			wantAccess: testAccess, wantRefresh: testRefresh, wantLife: 10 * time.Minute,
		},
		"camelCase expiresIn": {
			body:       `{"accessToken":"` + testAccess + `","expiresIn":"300"}`,
			wantAccess: testAccess, wantLife: 5 * time.Minute,
		},
		"a JWT access token: its exp claim": {
			body:       `{"accessToken":"` + jwt + `"}`,
			wantAccess: jwt, wantLife: 7 * time.Minute,
		},
		"a JWT with iat: exp - iat, whatever the server's clock": {
			body:       `{"accessToken":"` + jwtIat + `"}`,
			wantAccess: jwtIat, wantLife: 5 * time.Minute,
		},
		"expires_in wins over the JWT": {
			body:       `{"accessToken":"` + jwt + `","expires_in":60}`,
			wantAccess: jwt, wantLife: time.Minute,
		},
		"an expired JWT: the documented 10 minutes": {
			body:       `{"accessToken":"` + testJWT(`{"exp":1}`) + `"}`,
			wantAccess: testJWT(`{"exp":1}`), wantLife: 10 * time.Minute,
		},
		"a JWT for a week: capped at 24 hours as expires_in is": {
			body:       `{"accessToken":"` + testJWT(`{"iat":1,"exp":604801}`) + `"}`,
			wantAccess: testJWT(`{"iat":1,"exp":604801}`), wantLife: 24 * time.Hour,
		},
		"no access token":          {body: `{"refreshToken":"` + testRefresh + `"}`, wantErr: true},
		"not JSON":                 {body: `ok`, wantErr: true},
		"a number as access token": {body: `{"accessToken":42}`, wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ts, _ := answering(t, 200, tc.body)
			c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
			tok, err := c.LegacyNativeToken(t.Context(), ts.URL, testClientID, testUser, testUserToken)
			if tc.wantErr {
				if ClassOf(err) != ClassInvalidResponse {
					t.Fatalf("err = %v, want an InvalidResponse", err)
				}
				assertNoLeak(t, err, allSecrets...)
				return
			}
			if err != nil {
				t.Fatalf("LegacyNativeToken: %v", err)
			}
			if tok.AccessToken != tc.wantAccess || tok.RefreshToken != tc.wantRefresh || tok.Lifetime() != tc.wantLife || !tok.IssuedAt.Equal(t0) {
				t.Errorf("token = %q/%q for %s from %s, want %q/%q for %s", tok.AccessToken, tok.RefreshToken, tok.Lifetime(), tok.IssuedAt,
					tc.wantAccess, tc.wantRefresh, tc.wantLife)
			}
		})
	}
}

func TestLegacyErrors(t *testing.T) {
	tests := map[string]struct {
		call        string
		status      int
		body        string
		wantClass   ErrorClass
		wantExpired bool
	}{
		"native: 401 empty is a refused or expired user token": {call: "native", status: 401, wantClass: ClassInvalidGrant, wantExpired: true},
		"native: 401 with a message is a refusal":              {call: "native", status: 401, body: `{"message":"Authorization has been denied"}`, wantClass: ClassInvalidGrant},
		"native: 503 is unavailable":                           {call: "native", status: 503, wantClass: ClassUnavailable},
		"refresh: 401 empty is an expired refresh token":       {call: "refresh", status: 401, body: "null", wantClass: ClassInvalidGrant, wantExpired: true},
		"refresh: 400 is a refused refresh token":              {call: "refresh", status: 400, body: `{"message":"invalid"}`, wantClass: ClassInvalidGrant},
		"refresh: 429 is rate limiting":                        {call: "refresh", status: 429, wantClass: ClassRateLimited},
		"refresh: 500 is unavailable":                          {call: "refresh", status: 500, wantClass: ClassUnavailable},
		"revoke: 401 empty is an expired access token":         {call: "revoke", status: 401, wantClass: ClassInvalidClient, wantExpired: true},
		"revoke: 403 is a user without the right":              {call: "revoke", status: 403, body: `{"message":"no"}`, wantClass: ClassUnauthorizedClient},
		"revoke: 204 is success":                               {call: "revoke", status: 204},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ts, _ := answering(t, tc.status, tc.body)
			c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
			var err error
			switch tc.call {
			case "native":
				_, err = c.LegacyNativeToken(t.Context(), ts.URL, testClientID, testUser, testUserToken)
			case "refresh":
				_, err = c.LegacyRefresh(t.Context(), ts.URL, testClientID, testRefresh)
			default:
				err = c.LegacyRevoke(t.Context(), ts.URL, testClientID, testAccess, "42")
			}
			if tc.wantClass == "" {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Class != tc.wantClass || e.Expired != tc.wantExpired {
				t.Errorf("class, expired = %q, %v; want %q, %v (%v)", e.Class, e.Expired, tc.wantClass, tc.wantExpired, err)
			}
			assertNoLeak(t, err, allSecrets...)
		})
	}
}

func TestLegacyCallsRespectTheAllowlistAndRedirects(t *testing.T) {
	ts, seen := answering(t, 302, "")
	c := NewClient(Options{Hosts: HostAllowlist{"*.aprimo.com"}, Transport: ts.Client().Transport})
	if _, err := c.LegacyNativeToken(t.Context(), ts.URL, testClientID, testUser, testUserToken); ClassOf(err) != ClassHostNotAllowed {
		t.Errorf("err = %v, want HostNotAllowed", err)
	}
	if len(*seen) != 0 {
		t.Fatalf("a refused host saw %d requests", len(*seen))
	}
	c = newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
	if err := c.LegacyRevoke(t.Context(), ts.URL, testClientID, testAccess, "42"); ClassOf(err) != ClassInvalidResponse {
		t.Errorf("err = %v, want InvalidResponse for a redirect", err)
	}
}

func TestJWTExpiry(t *testing.T) {
	tests := map[string]struct {
		token string
		want  time.Duration // from t0; 0: not ok
	}{
		"exp":                 {token: testJWT(fmt.Sprintf(`{"exp":%d}`, t0.Add(time.Hour).Unix())), want: time.Hour},
		"iat and exp":         {token: testJWT(`{"iat":100,"exp":700}`), want: 10 * time.Minute},
		"exp in the past":     {token: testJWT(`{"exp":100}`)},
		"no exp":              {token: testJWT(`{"sub":"x"}`)},
		"exp not a number":    {token: testJWT(`{"exp":"soon"}`)},
		"not a JWT":           {token: testAccess},
		"payload not base64":  {token: "a.!!!.c"},
		"7 days, not capped":  {token: testJWT(`{"iat":1,"exp":604801}`), want: 7 * 24 * time.Hour},
		"payload not JSON":    {token: "a." + base64.RawURLEncoding.EncodeToString([]byte("x")) + ".c"},
		"exp as a float":      {token: testJWT(fmt.Sprintf(`{"exp":%d.5}`, t0.Add(time.Minute).Unix())), want: time.Minute},
		"four parts":          {token: "a.b.c.d"},
		"json number claims ": {token: testJWT(mustJSON(map[string]any{"iat": 10, "exp": 70})), want: time.Minute},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := JWTExpiry(tc.token, t0)
			if ok != (tc.want != 0) || ok && got.Sub(t0) != tc.want {
				t.Errorf("JWTExpiry = %s, %v; want %s from t0", got.Sub(t0), ok, tc.want)
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return strings.TrimSpace(string(b))
}
