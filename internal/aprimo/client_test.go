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
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// Test credentials: distinctive, and with characters that need form encoding.
const (
	testClientID  = "acme-integration"
	testSecret    = "cs-Q7v!9Lx2#Rw8Zp4T&k=1"
	testUser      = "jdoe@example.com"
	testUserToken = "ut-K3m9Pq2Wz8Xv5Rj7+/"
	testRefresh   = "rt-H6n2Bf8Yc4Td1Gs9"
	testAccess    = "at-Zb4Nc8Vd2Xe6Wf0Yg"
	testCode      = "code-M5q8Ls3Vn7Kd2"
	testVerifier  = "vf-P2x7Jc4Nh9Rt6Wq1Zm3Bk8Gy5Ds0Fa2Le7Uo4Ti9"
	testRedirect  = "http://127.0.0.1:8765/callback"
)

var allSecrets = []string{testSecret, testUserToken, testRefresh, testAccess, testCode, testVerifier}

// grant calls one flow with the test credentials.
type grant struct {
	call    func(c *Client, ctx context.Context, base string) (*Token, error)
	secrets []string
}

var grants = map[string]grant{
	"client credentials": {
		call: func(c *Client, ctx context.Context, base string) (*Token, error) {
			return c.ClientCredentials(ctx, base, testClientID, testSecret, []string{"api", "offline_access"})
		},
		secrets: []string{testSecret},
	},
	"password": {
		call: func(c *Client, ctx context.Context, base string) (*Token, error) {
			return c.Password(ctx, base, testClientID, testSecret, testUser, testUserToken, []string{"api"})
		},
		secrets: []string{testSecret, testUserToken},
	},
	"refresh": {
		call: func(c *Client, ctx context.Context, base string) (*Token, error) {
			return c.Refresh(ctx, base, testClientID, testSecret, testRefresh)
		},
		secrets: []string{testSecret, testRefresh},
	},
	"authorization code": {
		call: func(c *Client, ctx context.Context, base string) (*Token, error) {
			return c.AuthorizationCode(ctx, base, testClientID, testSecret, testCode, testRedirect, testVerifier)
		},
		secrets: []string{testSecret, testCode, testVerifier},
	},
}

// newTestClient returns a client that trusts ts and allows 127.0.0.1.
func newTestClient(ts *httptest.Server, clk *clocktesting.FakePassiveClock, timeout time.Duration) *Client {
	return NewClient(Options{
		Hosts:     HostAllowlist{"127.0.0.1"},
		Transport: ts.Client().Transport,
		Clock:     clk,
		Timeout:   timeout,
	})
}

const okBody = `{"access_token":"` + testAccess + `","token_type":"Bearer","expires_in":3600,"scope":"api"}`

func TestGrantRequests(t *testing.T) {
	tests := map[string]struct {
		grant     string
		wantBody  string
		wantBasic bool
	}{
		"client credentials sends its credentials in the body": {
			grant:    "client credentials",
			wantBody: "grant_type=client_credentials&scope=api+offline_access&client_id=acme-integration&client_secret=" + url.QueryEscape(testSecret),
		},
		"password sends user, user token and credentials in the body": {
			grant: "password",
			wantBody: "grant_type=password&username=jdoe%40example.com&password=" + url.QueryEscape(testUserToken) +
				"&scope=api&client_id=acme-integration&client_secret=" + url.QueryEscape(testSecret),
		},
		"refresh sends its credentials only in a Basic header": {
			grant:     "refresh",
			wantBody:  "grant_type=refresh_token&refresh_token=" + testRefresh,
			wantBasic: true,
		},
		"authorization code sends code, redirect URI, verifier and credentials in the body": {
			grant: "authorization code",
			wantBody: "grant_type=authorization_code&code=" + testCode + "&redirect_uri=" + url.QueryEscape(testRedirect) +
				"&client_id=acme-integration&code_verifier=" + testVerifier + "&client_secret=" + url.QueryEscape(testSecret),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got *http.Request
			var body []byte
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ = io.ReadAll(r.Body)
				got = r
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, okBody)
			}))
			defer ts.Close()
			c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)

			if _, err := grants[tc.grant].call(c, t.Context(), ts.URL); err != nil {
				t.Fatalf("request failed: %v", err)
			}
			if got.Method != http.MethodPost || got.URL.Path != TokenPath {
				t.Errorf("request = %s %s, want POST %s", got.Method, got.URL.Path, TokenPath)
			}
			if ct := got.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q", ct)
			}
			if got.URL.RawQuery != "" {
				t.Errorf("query = %q, want none", got.URL.RawQuery)
			}
			if string(body) != tc.wantBody {
				t.Errorf("body = %q\nwant   %q", body, tc.wantBody)
			}
			user, pass, ok := got.BasicAuth()
			switch {
			case tc.wantBasic && (!ok || user != testClientID || pass != testSecret):
				t.Errorf("Basic auth = %q, %q, %v; want the client id and secret", user, pass, ok)
			case !tc.wantBasic && got.Header.Get("Authorization") != "":
				t.Errorf("Authorization header sent: %q", got.Header.Get("Authorization"))
			}
		})
	}
}

func TestTokenURLFromBaseURL(t *testing.T) {
	tests := map[string]struct {
		suffix, wantPath string
	}{
		"bare host":                {suffix: "", wantPath: TokenPath},
		"trailing slash":           {suffix: "/", wantPath: TokenPath},
		"path prefix":              {suffix: "/aprimo/", wantPath: "/aprimo" + TokenPath},
		"already the token URL":    {suffix: TokenPath, wantPath: TokenPath},
		"token URL under a prefix": {suffix: "/aprimo" + TokenPath + "/", wantPath: "/aprimo" + TokenPath},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var path string
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				path = r.URL.Path
				_, _ = io.WriteString(w, okBody)
			}))
			defer ts.Close()
			c := newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0)
			if _, err := c.ClientCredentials(t.Context(), ts.URL+tc.suffix, testClientID, testSecret, nil); err != nil {
				t.Fatal(err)
			}
			if path != tc.wantPath {
				t.Errorf("path = %q, want %q", path, tc.wantPath)
			}
		})
	}
}

func TestTokenTimesComeFromTheClockAtSend(t *testing.T) {
	tests := map[string]struct {
		body         string
		wantLifetime time.Duration
		wantType     string
		wantRefresh  string
	}{
		"one hour":               {body: `{"access_token":"a","token_type":"Bearer","expires_in":3600}`, wantLifetime: time.Hour, wantType: "Bearer"},
		"minimum Aprimo allows":  {body: `{"access_token":"a","token_type":"Bearer","expires_in":60}`, wantLifetime: time.Minute, wantType: "Bearer"},
		"string seconds":         {body: `{"access_token":"a","expires_in":"300"}`, wantLifetime: 5 * time.Minute, wantType: "Bearer"},
		"absurd lifetime capped": {body: `{"access_token":"a","expires_in":999999999}`, wantLifetime: 24 * time.Hour, wantType: "Bearer"},
		"refresh token kept":     {body: `{"access_token":"a","token_type":"bearer","expires_in":60,"refresh_token":"r2"}`, wantLifetime: time.Minute, wantType: "bearer", wantRefresh: "r2"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(t0)
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				clk.SetTime(t0.Add(7 * time.Second)) // the server is slow to answer
				_, _ = io.WriteString(w, tc.body)
			}))
			defer ts.Close()
			tok, err := newTestClient(ts, clk, 0).Refresh(t.Context(), ts.URL, testClientID, testSecret, testRefresh)
			if err != nil {
				t.Fatal(err)
			}
			if !tok.IssuedAt.Equal(t0) {
				t.Errorf("IssuedAt = %s, want the send time %s", tok.IssuedAt, t0)
			}
			if !tok.ExpiresAt.Equal(t0.Add(tc.wantLifetime)) || tok.Lifetime() != tc.wantLifetime {
				t.Errorf("ExpiresAt = %s (lifetime %s), want %s later", tok.ExpiresAt, tok.Lifetime(), tc.wantLifetime)
			}
			if tok.TokenType != tc.wantType || tok.RefreshToken != tc.wantRefresh || tok.AccessToken != "a" {
				t.Errorf("token = %+v", tok)
			}
		})
	}
}

// echoSecrets stands for every secret value the request carried.
const echoSecrets = "{{SECRETS}}"

// sentSecrets returns the secret values in a token request.
func sentSecrets(r *http.Request, body []byte) string {
	form, _ := url.ParseQuery(string(body))
	var out []string
	for _, k := range []string{"client_secret", "password", "refresh_token", "code", "code_verifier"} {
		if v := form.Get(k); v != "" {
			out = append(out, v)
		}
	}
	if _, pass, ok := r.BasicAuth(); ok {
		out = append(out, pass)
	}
	return strings.Join(out, " ")
}

func TestAnswerErrors(t *testing.T) {
	type answerCase struct {
		status      int
		header      http.Header
		contentType string
		body        string

		wantClass     ErrorClass
		wantOAuth     string
		wantDesc      string
		wantRetry     time.Duration
		wantSpent     bool
		wantMsg       string
		wantNotInDesc string
	}
	tests := map[string]answerCase{}
	for code, class := range map[string]ErrorClass{
		"invalid_request":        ClassUnauthorizedClient,
		"invalid_client":         ClassInvalidClient,
		"invalid_grant":          ClassInvalidGrant,
		"unauthorized_client":    ClassUnauthorizedClient,
		"unsupported_grant_type": ClassUnauthorizedClient,
		"invalid_scope":          ClassInvalidScope,
	} {
		for _, status := range []int{400, 401} {
			tests[fmt.Sprintf("%s as HTTP %d", code, status)] = answerCase{
				status: status, contentType: "application/json",
				body:      `{"error":"` + code + `","error_description":"told you so"}`,
				wantClass: class, wantOAuth: code, wantDesc: "told you so",
				wantSpent: code == "invalid_grant",
				wantMsg:   fmt.Sprintf("answered %s (HTTP %d): told you so", code, status),
			}
		}
	}
	retryDate := t0.Add(2 * time.Minute).Format(http.TimeFormat)
	for name, tc := range map[string]answerCase{
		"401 with an empty body":         {status: 401, wantClass: ClassInvalidClient, wantMsg: "answered HTTP 401 without an OAuth error"},
		"401 with an HTML page":          {status: 401, contentType: "text/html", body: "<html>login</html>", wantClass: ClassInvalidClient},
		"403":                            {status: 403, body: "Forbidden", wantClass: ClassUnauthorizedClient, wantMsg: "HTTP 403 Forbidden"},
		"429 with delta seconds":         {status: 429, header: http.Header{"Retry-After": {"30"}}, wantClass: ClassRateLimited, wantRetry: 30 * time.Second, wantMsg: "HTTP 429 Too Many Requests; retry after 30s"},
		"429 with an HTTP-date":          {status: 429, header: http.Header{"Retry-After": {retryDate}}, wantClass: ClassRateLimited, wantRetry: 2 * time.Minute},
		"429 with an unknown OAuth code": {status: 429, contentType: "application/json", body: `{"error":"slow_down"}`, wantClass: ClassRateLimited, wantOAuth: "slow_down"},
		// 500, 502 and 504 may come from behind a refresh the origin processed.
		"500":                           {status: 500, wantClass: ClassUnavailable, wantSpent: true, wantMsg: "HTTP 500 Internal Server Error"},
		"500 server_error":              {status: 500, contentType: "application/json", body: `{"error":"server_error"}`, wantClass: ClassUnavailable, wantSpent: true, wantOAuth: "server_error"},
		"502 from a proxy":              {status: 502, contentType: "text/html", body: "<html>Bad Gateway</html>", wantClass: ClassUnavailable, wantSpent: true},
		"503 with Retry-After":          {status: 503, header: http.Header{"Retry-After": {"120"}}, wantClass: ClassUnavailable, wantRetry: 2 * time.Minute},
		"504":                           {status: 504, wantClass: ClassUnavailable, wantSpent: true},
		"404":                           {status: 404, contentType: "text/plain", body: "not found", wantClass: ClassInvalidResponse, wantMsg: "HTTP 404 without an OAuth error"},
		"400 HTML page":                 {status: 400, contentType: "text/html; charset=utf-8", body: "<!DOCTYPE html><html></html>", wantClass: ClassInvalidResponse, wantMsg: "looks like an HTML page"},
		"400 not JSON":                  {status: 400, body: "bad request", wantClass: ClassInvalidResponse},
		"400 JSON without error":        {status: 400, body: `{"message":"bad"}`, wantClass: ClassInvalidResponse},
		"400 error not a string":        {status: 400, body: `{"error":42}`, wantClass: ClassInvalidResponse},
		"400 larger than the limit":     {status: 400, body: `{"error":"invalid_grant","x":"` + strings.Repeat("x", 1<<20) + `"}`, wantClass: ClassInvalidResponse, wantMsg: "larger than 1 MiB"},
		"200 HTML page":                 {status: 200, contentType: "text/html", body: "<html><body>Sign in</body></html>", wantClass: ClassInvalidResponse, wantSpent: true, wantMsg: "looks like an HTML page"},
		"200 HTML without content type": {status: 200, body: "  <html>proxy</html>", wantClass: ClassInvalidResponse, wantSpent: true},
		"200 larger than the limit":     {status: 200, body: `{"access_token":"` + strings.Repeat("a", 1<<20) + `","expires_in":60}`, wantClass: ClassInvalidResponse, wantSpent: true, wantMsg: "larger than 1 MiB"},
		"200 not JSON":                  {status: 200, body: "OK", wantClass: ClassInvalidResponse, wantSpent: true, wantMsg: "not a JSON object"},
		"200 missing access_token":      {status: 200, body: `{"expires_in":60}`, wantClass: ClassInvalidResponse, wantSpent: true, wantMsg: "access_token is missing"},
		"200 access_token a number":     {status: 200, body: `{"access_token":1,"expires_in":60}`, wantClass: ClassInvalidResponse, wantSpent: true},
		"200 missing expires_in":        {status: 200, body: `{"access_token":"a"}`, wantClass: ClassInvalidResponse, wantSpent: true, wantMsg: "expires_in is missing"},
		"200 expires_in zero":           {status: 200, body: `{"access_token":"a","expires_in":0}`, wantClass: ClassInvalidResponse, wantSpent: true},
		"200 expires_in negative":       {status: 200, body: `{"access_token":"a","expires_in":-1}`, wantClass: ClassInvalidResponse, wantSpent: true},
		"200 expires_in a word":         {status: 200, body: `{"access_token":"a","expires_in":"an hour"}`, wantClass: ClassInvalidResponse, wantSpent: true},
		"200 token echoing the secrets": {status: 200, body: `{"access_token":"` + echoSecrets + `"}`, wantClass: ClassInvalidResponse, wantSpent: true},
		"201 with a token":              {status: 201, body: okBody, wantClass: ClassInvalidResponse, wantSpent: true, wantMsg: "answered HTTP 201 instead of 200"},
		"description quoting the secrets is dropped": {
			status: 400, contentType: "application/json",
			body:      `{"error":"invalid_client","error_description":"bad credentials ` + echoSecrets + `"}`,
			wantClass: ClassInvalidClient, wantOAuth: "invalid_client", wantDesc: "",
		},
		"error code quoting the secrets is dropped": {
			status: 400, contentType: "application/json",
			body:      `{"error":"` + echoSecrets + `"}`,
			wantClass: ClassInvalidResponse, wantMsg: "an unreadable OAuth error",
		},
		"long description is cut and cleaned": {
			status: 400, contentType: "application/json",
			body:      `{"error":"invalid_scope","error_description":"bad\nscope ` + strings.Repeat("z", 300) + `"}`,
			wantClass: ClassInvalidScope, wantOAuth: "invalid_scope", wantDesc: "bad scope " + strings.Repeat("z", 190),
		},
	} {
		tests[name] = tc
	}

	for name, tc := range tests {
		for gname, g := range grants {
			t.Run(name+"/"+gname, func(t *testing.T) {
				ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					reqBody, _ := io.ReadAll(r.Body)
					for k, v := range tc.header {
						w.Header()[k] = v
					}
					if tc.contentType != "" {
						w.Header().Set("Content-Type", tc.contentType)
					}
					w.WriteHeader(tc.status)
					_, _ = io.WriteString(w, strings.ReplaceAll(tc.body, echoSecrets, sentSecrets(r, reqBody)))
				}))
				defer ts.Close()

				tok, err := g.call(newTestClient(ts, clocktesting.NewFakePassiveClock(t0), 0), t.Context(), ts.URL)
				if tok != nil {
					t.Fatalf("got a token, want an error")
				}
				assertNoLeak(t, err, allSecrets...)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v is not an *Error", err)
				}
				if e.Class != tc.wantClass || e.StatusCode != tc.status || e.OAuthError != tc.wantOAuth {
					t.Errorf("got class %s, status %d, oauth %q; want %s, %d, %q", e.Class, e.StatusCode, e.OAuthError, tc.wantClass, tc.status, tc.wantOAuth)
				}
				if e.Description != tc.wantDesc {
					t.Errorf("Description = %q, want %q", e.Description, tc.wantDesc)
				}
				if e.RetryAfter != tc.wantRetry {
					t.Errorf("RetryAfter = %s, want %s", e.RetryAfter, tc.wantRetry)
				}
				if !e.Sent || !e.Answered {
					t.Errorf("Sent = %v, Answered = %v; want both", e.Sent, e.Answered)
				}
				if e.RefreshTokenSpent() != tc.wantSpent {
					t.Errorf("RefreshTokenSpent() = %v, want %v", e.RefreshTokenSpent(), tc.wantSpent)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) || !strings.Contains(err.Error(), "127.0.0.1") {
					t.Errorf("Error() = %q, want it to name the host and contain %q", err, tc.wantMsg)
				}
			})
		}
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			targetHits := 0
			target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				targetHits++
				_, _ = io.WriteString(w, okBody)
			}))
			defer target.Close()
			ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				// A Location that quotes the secrets: only its host may be named.
				http.Redirect(w, r, target.URL+"/steal?c="+url.QueryEscape(sentSecrets(r, body)), status)
			}))
			defer ts.Close()
			c := NewClient(Options{Hosts: HostAllowlist{"127.0.0.1"}, Transport: ts.Client().Transport})

			for gname, g := range grants {
				_, err := g.call(c, t.Context(), ts.URL)
				assertNoLeak(t, err, allSecrets...)
				var e *Error
				if !errors.As(err, &e) || e.Class != ClassInvalidResponse || e.StatusCode != status || e.RefreshTokenSpent() {
					t.Errorf("%s: error = %#v, want InvalidResponse with status %d, refresh token not spent", gname, err, status)
				}
				wantHost := strings.TrimPrefix(target.URL, "https://")
				if !strings.Contains(err.Error(), "redirect to "+wantHost+" that is not followed") {
					t.Errorf("%s: Error() = %q, want it to name the redirect host %s", gname, err, wantHost)
				}
			}
			if targetHits != 0 {
				t.Errorf("redirect target got %d requests, want 0", targetHits)
			}
		})
	}
}

// acceptCounter is a TCP listener that reports every connection it accepts.
type acceptCounter struct {
	ln       net.Listener
	accepted chan net.Addr
}

func newAcceptCounter(t *testing.T) *acceptCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &acceptCounter{ln: ln, accepted: make(chan net.Addr, 100)}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			a.accepted <- conn.RemoteAddr()
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return a
}

// assertNoAccepts proves no connection came before now: it dials one itself and
// checks that it is the first the listener accepted.
func (a *acceptCounter) assertNoAccepts(t *testing.T) {
	t.Helper()
	conn, err := net.Dial("tcp", a.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if first := <-a.accepted; first.String() != conn.LocalAddr().String() {
		t.Errorf("the listener accepted a connection from %s before ours", first)
	}
}

func TestNothingIsSentToARefusedURL(t *testing.T) {
	lis := newAcceptCounter(t)
	hostPort := lis.ln.Addr().String()
	tests := map[string]struct {
		hosts   HostAllowlist
		base    string
		wantMsg string
	}{
		"host not in the allowlist": {hosts: HostAllowlist{"*.aprimo.com"}, base: "https://" + hostPort, wantMsg: `host "` + hostPort + `" is not allowed (allowed: *.aprimo.com)`},
		"default allowlist":         {base: "https://" + hostPort, wantMsg: "is not allowed"},
		"plain http":                {hosts: HostAllowlist{"127.0.0.1"}, base: "http://" + hostPort, wantMsg: `must use https, not "http"`},
		"no scheme":                 {hosts: HostAllowlist{"127.0.0.1"}, base: hostPort, wantMsg: "not a valid URL"},
		"user info":                 {hosts: HostAllowlist{"127.0.0.1"}, base: "https://admin:" + testUserToken[:12] + "@" + hostPort, wantMsg: "must not contain user information"},
		"query":                     {hosts: HostAllowlist{"127.0.0.1"}, base: "https://" + hostPort + "?x=1", wantMsg: "query or fragment"},
		"not a URL":                 {hosts: HostAllowlist{"127.0.0.1"}, base: "https://" + hostPort + "/%zz" + testSecret[:12], wantMsg: "not a valid URL"},
		"no host":                   {hosts: HostAllowlist{"127.0.0.1"}, base: "https:///path", wantMsg: "has no host"},
		"empty":                     {hosts: HostAllowlist{"127.0.0.1"}, base: "", wantMsg: "must use https"},
	}
	for name, tc := range tests {
		for gname, g := range grants {
			t.Run(name+"/"+gname, func(t *testing.T) {
				c := NewClient(Options{Hosts: tc.hosts})
				tok, err := g.call(c, t.Context(), tc.base)
				if tok != nil {
					t.Fatal("got a token")
				}
				assertNoLeak(t, err, allSecrets...)
				var e *Error
				if !errors.As(err, &e) || e.Class != ClassHostNotAllowed {
					t.Fatalf("error = %v, want class HostNotAllowed", err)
				}
				if e.Sent || e.Answered || e.StatusCode != 0 || e.RefreshTokenSpent() {
					t.Errorf("Sent %v, Answered %v, status %d, spent %v; want nothing", e.Sent, e.Answered, e.StatusCode, e.RefreshTokenSpent())
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("Error() = %q, want it to contain %q", err, tc.wantMsg)
				}
			})
		}
	}
	lis.assertNoAccepts(t)
}

func TestTransportErrors(t *testing.T) {
	// Handlers that hang wait for release, not for the client to leave: a handler that
	// returned on disconnect would race a 200 against the client's deadline.
	hang := func(release <-chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			<-release
		}
	}
	headersThenHang := func(status int) func(<-chan struct{}) http.HandlerFunc {
		return func(release <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.ReadAll(r.Body)
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"access_token":`)
				w.(http.Flusher).Flush()
				<-release
			}
		}
	}
	reset := func(<-chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			panic(http.ErrAbortHandler)
		}
	}
	const short = 200 * time.Millisecond
	tests := map[string]struct {
		handler      func(release <-chan struct{}) http.HandlerFunc // nil: nothing listens
		timeout      time.Duration                                  // default 10s
		untrusted    bool                                           // the client does not trust the server's certificate
		cancelled    bool                                           // the caller's context is already done
		wantSent     bool
		wantAnswered bool
		wantStatus   int
		wantSpent    bool
		wantIs       error
		wantMsg      string
	}{
		"connection refused": {
			wantIs: syscall.ECONNREFUSED, wantMsg: "is unreachable",
		},
		"untrusted certificate": {
			handler: hang, untrusted: true, wantMsg: "certificate",
		},
		"caller gave up before sending": {
			handler: hang, cancelled: true, wantIs: context.Canceled, wantMsg: "was canceled",
		},
		"no answer within the timeout": {
			handler: hang, timeout: short, wantSent: true, wantSpent: true, wantIs: context.DeadlineExceeded, wantMsg: "did not answer within 200ms",
		},
		"connection reset after the request": {
			handler: reset, wantSent: true, wantSpent: true, wantMsg: "is unreachable",
		},
		"200 whose body never arrives": {
			handler: headersThenHang(200), timeout: short, wantSent: true, wantAnswered: true, wantStatus: 200, wantSpent: true,
			wantIs: context.DeadlineExceeded, wantMsg: "answered HTTP 200 but the body did not arrive within 200ms",
		},
		"503 whose body never arrives": {
			handler: headersThenHang(503), timeout: short, wantSent: true, wantAnswered: true, wantStatus: 503,
			wantIs: context.DeadlineExceeded, wantMsg: "HTTP 503",
		},
	}
	for name, tc := range tests {
		for gname, g := range grants {
			t.Run(name+"/"+gname, func(t *testing.T) {
				t.Parallel() // each case waits for a timeout
				var base string
				opts := Options{Hosts: HostAllowlist{"127.0.0.1"}, Timeout: cmp.Or(tc.timeout, 10*time.Second)}
				if tc.handler == nil {
					ln, err := net.Listen("tcp", "127.0.0.1:0")
					if err != nil {
						t.Fatal(err)
					}
					base = "https://" + ln.Addr().String()
					_ = ln.Close()
				} else {
					release := make(chan struct{})
					handler := tc.handler(release)
					ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.URL.Path == "/warm" {
							return
						}
						handler(w, r)
					}))
					ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted case logs handshake errors
					ts.StartTLS()
					defer ts.Close()
					defer close(release)
					base = ts.URL
					if !tc.untrusted {
						opts.Transport = ts.Client().Transport
						warm(t, ts)
					}
				}
				ctx := t.Context()
				if tc.cancelled {
					cctx, cancel := context.WithCancel(ctx)
					cancel()
					ctx = cctx
				}

				_, err := g.call(NewClient(opts), ctx, base)
				assertNoLeak(t, err, allSecrets...)
				var e *Error
				if !errors.As(err, &e) || e.Class != ClassUnavailable {
					t.Fatalf("error = %v, want class EndpointUnavailable", err)
				}
				if e.Sent != tc.wantSent || e.Answered != tc.wantAnswered || e.StatusCode != tc.wantStatus {
					t.Errorf("Sent %v, Answered %v, status %d; want %v, %v, %d", e.Sent, e.Answered, e.StatusCode, tc.wantSent, tc.wantAnswered, tc.wantStatus)
				}
				if e.RefreshTokenSpent() != tc.wantSpent {
					t.Errorf("RefreshTokenSpent() = %v, want %v", e.RefreshTokenSpent(), tc.wantSpent)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
				}
				var ue *url.Error
				if errors.As(err, &ue) {
					t.Errorf("the chain holds a *url.Error: %v", ue)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("Error() = %q, want it to contain %q", err, tc.wantMsg)
				}
			})
		}
	}
}

// warm opens a kept-alive connection to ts, so that a short timeout measures the
// request and not a TLS handshake slowed down by -race.
func warm(t *testing.T, ts *httptest.Server) {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + "/warm")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

func FuzzErrorAnswersNeverQuoteSecrets(f *testing.F) {
	for _, seed := range []struct {
		status   int
		location string
		body     string
	}{
		{400, "", `{"error":"invalid_grant","error_description":"rt-H6n2Bf8Yc4Td1Gs9 was used"}`},
		{401, "", `{"error":"cs-Q7v!9Lx2#Rw8Zp4T&k=1"}`},
		{302, "https://ut-K3m9Pq2Wz8Xv5Rj7.example/", ``},
		{429, "", `{"error":"slow_down","error_description":"wait\u0000 a bit"}`},
		{500, "", `<html>`},
	} {
		f.Add(seed.status, seed.location, []byte(seed.body))
	}
	c := NewClient(Options{Clock: clocktesting.NewFakePassiveClock(t0)})
	secrets := newSecretSet(allSecrets...)
	f.Fuzz(func(t *testing.T, status int, location string, body []byte) {
		if status < 300 || status > 599 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Location": {location}}, Request: &http.Request{URL: &url.URL{Scheme: "https", Host: "acme.aprimo.com"}}}
		var e *Error
		if status < 400 {
			e = c.redirectError("acme.aprimo.com", resp, secrets)
		} else {
			e = c.answerError("acme.aprimo.com", resp, body, nil, secrets)
		}
		assertNoLeak(t, e, allSecrets...)
		if len(e.Description) > maxDescription || !isVisibleASCII(e.Description) {
			t.Errorf("Description %q is not short printable ASCII", e.Description)
		}
		if e.Class == "" {
			t.Error("no class")
		}
	})
}

func TestDefaultTransportRequiresTLS12(t *testing.T) {
	for name, roots := range map[string]*x509.CertPool{"system roots": nil, "extra CAs": x509.NewCertPool()} {
		t.Run(name, func(t *testing.T) {
			tr, ok := defaultTransport(roots, nil).(*http.Transport)
			if !ok || tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.RootCAs != roots {
				t.Fatalf("TLS config = %+v, want TLS 1.2 at least with the given roots", tr.TLSClientConfig)
			}
			if tr.Proxy == nil {
				t.Error("the proxy from the environment is not honoured")
			}
		})
	}
}
