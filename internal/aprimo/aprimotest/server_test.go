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

package aprimotest_test

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	clientID  = "acme-integration"
	secret    = "cs-9bQ2xL7vR4mK8pZ3"
	user      = "jdoe"
	userToken = "ut-5Hc8Wn2Qy6Tf1Ls4"
	ccOnlyID  = "cc-only"
	ccOnlySec = "cs-Ee3Rr7Tt1Yy5Uu9I"
	lifetime  = 5 * time.Minute
)

type fixture struct {
	srv    *aprimotest.Server
	clock  *clocktesting.FakePassiveClock
	client *aprimo.Client
}

func newFixture(t *testing.T, opts aprimotest.Options) *fixture {
	t.Helper()
	clk := clocktesting.NewFakePassiveClock(t0)
	opts.Clock = clk
	srv, err := aprimotest.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	srv.AddRegistration(aprimotest.Registration{ClientID: clientID, ClientSecret: secret, TokenLifetime: lifetime})
	srv.AddRegistration(aprimotest.Registration{ClientID: ccOnlyID, ClientSecret: ccOnlySec, Grants: []string{aprimotest.GrantClientCredentials}})
	srv.AddUser(user, userToken)
	return &fixture{srv: srv, clock: clk, client: aprimo.NewClient(aprimo.Options{
		Hosts:     aprimo.HostAllowlist{"127.0.0.1"},
		Transport: srv.Client().Transport,
		Clock:     clk,
		Timeout:   10 * time.Second,
	})}
}

// assertNoLeak fails if err quotes a secret.
func assertNoLeak(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	texts := []string{err.Error()}
	var ae *aprimo.Error
	if errors.As(err, &ae) {
		texts = append(texts, ae.Description, ae.OAuthError)
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		texts = append(texts, e.Error())
	}
	for _, text := range texts {
		if aprimotest.QuotesSecret(text, append(secrets, secret, userToken, ccOnlySec)...) {
			t.Errorf("error text quotes a secret: %q", text)
		}
	}
}

// wantError asserts err is an *aprimo.Error of class and OAuth code.
func wantError(t *testing.T, err error, class aprimo.ErrorClass, oauth string, secrets ...string) *aprimo.Error {
	t.Helper()
	assertNoLeak(t, err, secrets...)
	var e *aprimo.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *aprimo.Error", err)
	}
	if e.Class != class || e.OAuthError != oauth {
		t.Fatalf("error = %v (class %s, oauth %q), want class %s, oauth %q", err, e.Class, e.OAuthError, class, oauth)
	}
	return e
}

// callAPI calls a protected route with tok and returns the status and body.
func (f *fixture) callAPI(t *testing.T, tok string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL()+"/api/core/records", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestGrantsEndToEnd(t *testing.T) {
	tests := map[string]struct {
		get         func(f *fixture, ctx context.Context) (*aprimo.Token, error)
		wantRefresh bool
		wantScope   string
	}{
		"client credentials": {
			get: func(f *fixture, ctx context.Context) (*aprimo.Token, error) {
				return f.client.ClientCredentials(ctx, f.srv.URL(), clientID, secret, []string{"api"})
			},
			wantScope: "api",
		},
		"client credentials with offline_access gets no refresh token": {
			get: func(f *fixture, ctx context.Context) (*aprimo.Token, error) {
				return f.client.ClientCredentials(ctx, f.srv.URL(), clientID, secret, []string{"api", "offline_access"})
			},
			wantScope: "api offline_access",
		},
		"password without offline_access": {
			get: func(f *fixture, ctx context.Context) (*aprimo.Token, error) {
				return f.client.Password(ctx, f.srv.URL(), clientID, secret, user, userToken, []string{"api", "reporting-api"})
			},
			wantScope: "api reporting-api",
		},
		"password with offline_access": {
			get: func(f *fixture, ctx context.Context) (*aprimo.Token, error) {
				return f.client.Password(ctx, f.srv.URL(), clientID, secret, user, userToken, []string{"api", "offline_access"})
			},
			wantRefresh: true, wantScope: "api offline_access",
		},
		"refresh from a bootstrap token": {
			get: func(f *fixture, ctx context.Context) (*aprimo.Token, error) {
				return f.client.Refresh(ctx, f.srv.URL(), clientID, secret, f.srv.IssueRefreshToken(clientID))
			},
			wantRefresh: true, wantScope: strings.Join(aprimotest.DefaultScopes, " "),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, aprimotest.Options{})
			tok, err := tc.get(f, t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if (tok.RefreshToken != "") != tc.wantRefresh {
				t.Errorf("refresh token present = %v, want %v", tok.RefreshToken != "", tc.wantRefresh)
			}
			if tok.Scope != tc.wantScope || tok.TokenType != "Bearer" {
				t.Errorf("scope %q, type %q; want %q, Bearer", tok.Scope, tok.TokenType, tc.wantScope)
			}
			if !tok.IssuedAt.Equal(t0) || tok.Lifetime() != lifetime {
				t.Errorf("issued %s for %s, want %s for %s", tok.IssuedAt, tok.Lifetime(), t0, lifetime)
			}
			if len(tok.AccessToken) < 43 || !f.srv.ValidAccessToken(tok.AccessToken) {
				t.Errorf("access token %q is short or not valid", tok.AccessToken)
			}
			if status, body := f.callAPI(t, tok.AccessToken); status != http.StatusOK || body != "{}" {
				t.Errorf("API answered %d %q, want 200 {}", status, body)
			}
		})
	}
}

func TestRefreshTokensRotate(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	current := f.srv.IssueRefreshToken(clientID)
	presented := []string{}
	for i := range 3 {
		tok, err := f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, current)
		if err != nil {
			t.Fatalf("refresh %d: %v", i+1, err)
		}
		presented = append(presented, current)
		if tok.RefreshToken == "" || tok.RefreshToken == current {
			t.Fatalf("refresh %d: got refresh token %q, want a new one", i+1, tok.RefreshToken)
		}
		// The token just exchanged is dead at once.
		_, err = f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, current)
		e := wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant", current, tok.RefreshToken)
		if !e.RefreshTokenSpent() {
			t.Error("an invalid_grant answer must mark the refresh token spent")
		}
		presented = append(presented, current)
		current = tok.RefreshToken
	}
	// Without replay detection the newest token still works.
	if _, err := f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, current); err != nil {
		t.Fatalf("the newest refresh token no longer works: %v", err)
	}
	presented = append(presented, current)

	var got []string
	for _, r := range f.srv.Requests() {
		got = append(got, r.RefreshTokenSHA256)
	}
	var want []string
	for _, p := range presented {
		sum := sha256.Sum256([]byte(p))
		want = append(want, hex.EncodeToString(sum[:]))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("logged refresh token hashes = %v, want %v", got, want)
	}
}

func TestReplayDetection(t *testing.T) {
	tests := map[string]struct {
		replayDetection bool
		wantChainAlive  bool
	}{
		"replay revokes the chain":             {replayDetection: true, wantChainAlive: false},
		"without detection the chain survives": {replayDetection: false, wantChainAlive: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, aprimotest.Options{ReplayDetection: tc.replayDetection})
			rt0 := f.srv.IssueRefreshToken(clientID)
			other := f.srv.IssueRefreshToken(clientID) // a second chain, never replayed
			tok1, err := f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, rt0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, rt0) // the replay
			wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant", rt0, tok1.RefreshToken)

			_, err = f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, tok1.RefreshToken)
			if alive := err == nil; alive != tc.wantChainAlive {
				t.Errorf("descendant refresh token works = %v, want %v (err %v)", alive, tc.wantChainAlive, err)
			}
			if !tc.wantChainAlive {
				wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant", tok1.RefreshToken)
			}
			if _, err := f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, other); err != nil {
				t.Errorf("another chain was revoked too: %v", err)
			}
			if !f.srv.ValidAccessToken(tok1.AccessToken) {
				t.Error("access tokens already issued must stay valid")
			}
		})
	}
}

func TestNewRegistrationAnswersInvalidClientUntilActive(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	f.srv.AddRegistration(aprimotest.Registration{ClientID: "fresh", ClientSecret: "cs-Fresh-Secret-1234", ActiveAt: t0.Add(15 * time.Minute)})
	for _, at := range []time.Duration{0, 14*time.Minute + 59*time.Second} {
		f.clock.SetTime(t0.Add(at))
		_, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), "fresh", "cs-Fresh-Secret-1234", []string{"api"})
		e := wantError(t, err, aprimo.ClassInvalidClient, "invalid_client", "cs-Fresh-Secret-1234")
		if e.StatusCode != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", e.StatusCode)
		}
	}
	f.clock.SetTime(t0.Add(15 * time.Minute))
	if _, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), "fresh", "cs-Fresh-Secret-1234", []string{"api"}); err != nil {
		t.Fatalf("after ActiveAt: %v", err)
	}
}

func TestExpiredAccessTokenGets401WithEmptyBody(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	tok, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), clientID, secret, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		at         time.Duration
		token      string
		wantStatus int
	}{
		"fresh":                {at: 0, token: tok.AccessToken, wantStatus: 200},
		"one second before":    {at: lifetime - time.Second, token: tok.AccessToken, wantStatus: 200},
		"at expiry":            {at: lifetime, token: tok.AccessToken, wantStatus: 401},
		"long after":           {at: 2 * time.Hour, token: tok.AccessToken, wantStatus: 401},
		"a token never issued": {at: 0, token: "not-a-token", wantStatus: 401},
		"no token":             {at: 0, token: "", wantStatus: 401},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f.clock.SetTime(t0.Add(tc.at))
			status, body := f.callAPI(t, tc.token)
			if status != tc.wantStatus {
				t.Errorf("status = %d, want %d", status, tc.wantStatus)
			}
			if status == 401 && body != "" {
				t.Errorf("401 body = %q, want empty", body)
			}
			if valid := f.srv.ValidAccessToken(tc.token); valid != (tc.wantStatus == 200) {
				t.Errorf("ValidAccessToken = %v", valid)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	tests := map[string]struct {
		fault        aprimotest.Fault
		wantClass    aprimo.ErrorClass
		wantStatus   int // as the client saw it
		wantLogged   int // as Requests() records it
		wantRetry    time.Duration
		wantSent     bool
		wantAnswered bool
		wantSpent    bool
		// rotated: the server consumed the refresh token although the client got no token.
		rotated bool
	}{
		"503 with Retry-After": {
			fault:     aprimotest.Fault{Status: 503, Header: http.Header{"Retry-After": {"30"}}},
			wantClass: aprimo.ClassUnavailable, wantStatus: 503, wantLogged: 503, wantRetry: 30 * time.Second, wantSent: true, wantAnswered: true,
		},
		"429": {
			fault:     aprimotest.Fault{Status: 429, Body: `{"error":"rate_limited"}`, ContentType: "application/json"},
			wantClass: aprimo.ClassRateLimited, wantStatus: 429, wantLogged: 429, wantSent: true, wantAnswered: true,
		},
		"status defaults to 500": {
			fault:     aprimotest.Fault{},
			wantClass: aprimo.ClassUnavailable, wantStatus: 500, wantLogged: 500, wantSent: true, wantAnswered: true, wantSpent: true,
		},
		"HTML from a proxy": {
			fault:     aprimotest.Fault{Status: 200, Body: "<html>Sign in</html>", ContentType: "text/html"},
			wantClass: aprimo.ClassInvalidResponse, wantStatus: 200, wantLogged: 200, wantSent: true, wantAnswered: true, wantSpent: true,
		},
		"hang until the client gives up": {
			fault:     aprimotest.Fault{Hang: true},
			wantClass: aprimo.ClassUnavailable, wantSent: true, wantSpent: true,
		},
		"drop the connection": {
			fault:     aprimotest.Fault{Drop: true},
			wantClass: aprimo.ClassUnavailable, wantSent: true, wantSpent: true,
		},
		"answer lost after the token rotated": {
			fault:     aprimotest.Fault{Process: true, Drop: true},
			wantClass: aprimo.ClassUnavailable, wantSent: true, wantSpent: true, rotated: true,
		},
		"502 after the token rotated": {
			fault: aprimotest.Fault{Process: true, Status: 502},
			// The client cannot tell this from a 502 before processing, so it counts as spent.
			wantClass: aprimo.ClassUnavailable, wantStatus: 502, wantLogged: 502, wantSent: true, wantAnswered: true, wantSpent: true, rotated: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, aprimotest.Options{})
			rt := f.srv.IssueRefreshToken(clientID)
			client := f.client
			if tc.fault.Hang {
				client = aprimo.NewClient(aprimo.Options{
					Hosts: aprimo.HostAllowlist{"127.0.0.1"}, Transport: f.srv.Client().Transport, Timeout: 200 * time.Millisecond,
				})
				f.callAPI(t, "") // connect first: the short timeout is for the hang, not a TLS handshake
			}
			f.srv.FailNext(1, tc.fault)

			_, err := client.Refresh(t.Context(), f.srv.URL(), clientID, secret, rt)
			e := wantError(t, err, tc.wantClass, e2oauth(err), rt)
			if e.StatusCode != tc.wantStatus || e.Sent != tc.wantSent || e.Answered != tc.wantAnswered || e.RetryAfter != tc.wantRetry {
				t.Errorf("status %d, sent %v, answered %v, retry %s; want %d, %v, %v, %s",
					e.StatusCode, e.Sent, e.Answered, e.RetryAfter, tc.wantStatus, tc.wantSent, tc.wantAnswered, tc.wantRetry)
			}
			if e.RefreshTokenSpent() != tc.wantSpent {
				t.Errorf("RefreshTokenSpent() = %v, want %v", e.RefreshTokenSpent(), tc.wantSpent)
			}
			if got := f.srv.Requests()[0].Status; got != tc.wantLogged {
				t.Errorf("logged status = %d, want %d", got, tc.wantLogged)
			}

			// The fault was used up; the next request gets a real answer.
			_, err = f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, rt)
			if tc.rotated {
				wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant", rt)
			} else if err != nil {
				t.Errorf("after the fault: %v", err)
			}
		})
	}
}

// e2oauth returns the OAuth code of err, for tests that do not pin it.
func e2oauth(err error) string {
	var e *aprimo.Error
	if errors.As(err, &e) {
		return e.OAuthError
	}
	return ""
}

func TestFailNextCountsDown(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	f.srv.FailNext(2, aprimotest.Fault{Status: 503})
	for i, wantOK := range []bool{false, false, true} {
		_, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), clientID, secret, nil)
		if (err == nil) != wantOK {
			t.Errorf("request %d: err = %v, want success %v", i+1, err, wantOK)
		}
		assertNoLeak(t, err)
	}
	if n := f.srv.CountRequests(clientID); n != 3 {
		t.Errorf("CountRequests = %d, want 3", n)
	}
}

func TestRequestsLog(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	ctx, base := t.Context(), f.srv.URL()
	_, _ = f.client.ClientCredentials(ctx, base, clientID, secret, []string{"api"})
	f.clock.SetTime(t0.Add(time.Minute))
	_, err := f.client.ClientCredentials(ctx, base, clientID, "wrong-secret-value", []string{"api"})
	assertNoLeak(t, err, "wrong-secret-value")
	_, err = f.client.Password(ctx, base, ccOnlyID, ccOnlySec, user, userToken, nil)
	assertNoLeak(t, err)
	rt := f.srv.IssueRefreshToken(clientID)
	_, _ = f.client.Refresh(ctx, base, clientID, secret, rt)
	sum := sha256.Sum256([]byte(rt))

	want := []aprimotest.Request{
		{Time: t0, GrantType: "client_credentials", ClientID: clientID, Status: 200},
		{Time: t0.Add(time.Minute), GrantType: "client_credentials", ClientID: clientID, Status: 400, OAuthError: "invalid_client"},
		{Time: t0.Add(time.Minute), GrantType: "password", ClientID: ccOnlyID, Status: 400, OAuthError: "unauthorized_client"},
		{Time: t0.Add(time.Minute), GrantType: "refresh_token", ClientID: clientID, Status: 200, RefreshTokenSHA256: hex.EncodeToString(sum[:])},
	}
	got := f.srv.Requests()
	if len(got) != len(want) {
		t.Fatalf("Requests() = %+v, want %d entries", got, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Requests()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := f.srv.CountRequests(ccOnlyID); n != 1 {
		t.Errorf("CountRequests(%s) = %d, want 1", ccOnlyID, n)
	}
}

// post sends a raw request to the token endpoint and returns status, OAuth error and headers.
func post(t *testing.T, f *fixture, method, contentType, body string, basic []string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL()+"/login/connect/token", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if basic != nil {
		req.SetBasicAuth(basic[0], basic[1])
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var answer struct {
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Errorf("body %q is not JSON", raw)
	}
	return resp.StatusCode, answer.Error, resp.Header
}

func TestTokenEndpointValidatesRequests(t *testing.T) {
	const form = "application/x-www-form-urlencoded"
	cc := "grant_type=client_credentials&scope=api&client_id=" + clientID + "&client_secret=" + secret
	q := url.QueryEscape
	tests := map[string]struct {
		method, contentType, body string
		basic                     []string
		setup                     func(f *fixture) string // returns text appended to body
		wantStatus                int
		wantError                 string
	}{
		"client credentials":                    {body: cc, wantStatus: 200},
		"charset parameter is fine":             {contentType: form + "; charset=utf-8", body: cc, wantStatus: 200},
		"GET":                                   {method: http.MethodGet, wantStatus: 405, wantError: "invalid_request"},
		"JSON body":                             {contentType: "application/json", body: `{"grant_type":"client_credentials"}`, wantStatus: 400, wantError: "invalid_request"},
		"no content type":                       {contentType: "-", body: cc, wantStatus: 400, wantError: "invalid_request"},
		"missing grant_type":                    {body: "client_id=" + clientID + "&client_secret=" + secret, wantStatus: 400, wantError: "invalid_request"},
		"repeated parameter":                    {body: cc + "&scope=api", wantStatus: 400, wantError: "invalid_request"},
		"unknown grant":                         {body: "grant_type=device_code&code=x&client_id=" + clientID + "&client_secret=" + secret, wantStatus: 400, wantError: "unsupported_grant_type"},
		"wrong secret":                          {body: "grant_type=client_credentials&client_id=" + clientID + "&client_secret=nope", wantStatus: 400, wantError: "invalid_client"},
		"unknown client":                        {body: "grant_type=client_credentials&client_id=who&client_secret=" + secret, wantStatus: 400, wantError: "invalid_client"},
		"client credentials in a Basic header":  {body: "grant_type=client_credentials&scope=api", basic: []string{clientID, secret}, wantStatus: 400, wantError: "invalid_client"},
		"unknown scope":                         {body: "grant_type=client_credentials&scope=api+admin&client_id=" + clientID + "&client_secret=" + secret, wantStatus: 400, wantError: "invalid_scope"},
		"grant the registration does not allow": {body: "grant_type=password&username=" + user + "&password=" + userToken + "&client_id=" + ccOnlyID + "&client_secret=" + ccOnlySec, wantStatus: 400, wantError: "unauthorized_client"},
		"refresh on a client credentials registration": {
			body: "grant_type=refresh_token&refresh_token=x", basic: []string{ccOnlyID, ccOnlySec}, wantStatus: 400, wantError: "unauthorized_client",
		},
		"password":               {body: "grant_type=password&username=" + user + "&password=" + userToken + "&client_id=" + clientID + "&client_secret=" + secret, wantStatus: 200},
		"password, unknown user": {body: "grant_type=password&username=eve&password=" + userToken + "&client_id=" + clientID + "&client_secret=" + secret, wantStatus: 400, wantError: "invalid_grant"},
		"password, wrong token":  {body: "grant_type=password&username=" + user + "&password=nope&client_id=" + clientID + "&client_secret=" + secret, wantStatus: 400, wantError: "invalid_grant"},
		"password, no user":      {body: "grant_type=password&client_id=" + clientID + "&client_secret=" + secret, wantStatus: 400, wantError: "invalid_request"},
		"refresh with Basic":     {body: "grant_type=refresh_token&refresh_token=", basic: []string{clientID, secret}, setup: bootstrap, wantStatus: 200},
		"refresh with credentials in the body": {
			body: "grant_type=refresh_token&client_id=" + clientID + "&client_secret=" + secret + "&refresh_token=", setup: bootstrap, wantStatus: 400, wantError: "invalid_client",
		},
		"refresh with credentials in both": {
			body: "grant_type=refresh_token&client_id=" + clientID + "&client_secret=" + secret + "&refresh_token=", basic: []string{clientID, secret}, setup: bootstrap, wantStatus: 400, wantError: "invalid_client",
		},
		"refresh with a wrong Basic secret": {body: "grant_type=refresh_token&refresh_token=", basic: []string{clientID, "nope"}, setup: bootstrap, wantStatus: 400, wantError: "invalid_client"},
		"refresh without refresh_token":     {body: "grant_type=refresh_token", basic: []string{clientID, secret}, wantStatus: 400, wantError: "invalid_request"},
		"refresh with an unknown token":     {body: "grant_type=refresh_token&refresh_token=made-up", basic: []string{clientID, secret}, wantStatus: 400, wantError: "invalid_grant"},
		"refresh with another client's token": {
			body: "grant_type=refresh_token&refresh_token=", basic: []string{clientID, secret},
			setup: func(f *fixture) string { return q(f.srv.IssueRefreshToken("someone-else")) }, wantStatus: 400, wantError: "invalid_grant",
		},
		"refresh narrowing the scope": {body: "grant_type=refresh_token&scope=api&refresh_token=", basic: []string{clientID, secret}, setup: bootstrap, wantStatus: 200},
		"refresh widening the scope": {
			body: "grant_type=refresh_token&scope=api&refresh_token=", basic: []string{"narrow", secret}, wantStatus: 400, wantError: "invalid_scope",
			setup: func(f *fixture) string {
				f.srv.AddRegistration(aprimotest.Registration{ClientID: "narrow", ClientSecret: secret, Scopes: []string{"reporting-api"}})
				return q(f.srv.IssueRefreshToken("narrow"))
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, aprimotest.Options{})
			method := cmp.Or(tc.method, http.MethodPost)
			contentType := cmp.Or(tc.contentType, form)
			if contentType == "-" {
				contentType = ""
			}
			body := tc.body
			if tc.setup != nil {
				body += tc.setup(f)
			}
			status, oauthErr, header := post(t, f, method, contentType, body, tc.basic)
			if status != tc.wantStatus || oauthErr != tc.wantError {
				t.Errorf("answer = %d %q, want %d %q", status, oauthErr, tc.wantStatus, tc.wantError)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if header.Get("Cache-Control") != "no-store" {
				t.Error("token answers must not be cached")
			}
			if status == 405 && header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q", header.Get("Allow"))
			}
		})
	}
}

func bootstrap(f *fixture) string { return url.QueryEscape(f.srv.IssueRefreshToken(clientID)) }

func TestRefreshTokenLifetime(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	f.srv.AddRegistration(aprimotest.Registration{ClientID: "pkce", ClientSecret: secret, Grants: []string{aprimotest.GrantAuthorizationCode}, RefreshTokenLifetime: time.Hour})
	rt := f.srv.IssueRefreshToken("pkce")
	f.clock.SetTime(t0.Add(time.Hour))
	_, err := f.client.Refresh(t.Context(), f.srv.URL(), "pkce", secret, rt)
	wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant", rt)
}

func TestRevokeRefreshTokens(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	rt := f.srv.IssueRefreshToken(clientID)
	f.srv.RevokeRefreshTokens(clientID)
	_, err := f.client.Refresh(t.Context(), f.srv.URL(), clientID, secret, rt)
	wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant", rt)
}

func TestRotateRegistrationSecret(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	if !f.srv.RotateRegistrationSecret(clientID, "cs-New-Secret-5678") || f.srv.RotateRegistrationSecret("nobody", "x") {
		t.Fatal("RotateRegistrationSecret reports the wrong existence")
	}
	_, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), clientID, secret, nil)
	wantError(t, err, aprimo.ClassInvalidClient, "invalid_client", "cs-New-Secret-5678")
	if _, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), clientID, "cs-New-Secret-5678", nil); err != nil {
		t.Fatal(err)
	}
}

func TestCACertificateIsValidForLoopbackNames(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(f.srv.CACertPEM()) {
		t.Fatal("CACertPEM is not a PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(client.CloseIdleConnections)
	port := f.srv.URL()[strings.LastIndex(f.srv.URL(), ":")+1:]
	for _, host := range []string{"127.0.0.1", "localhost"} {
		resp, err := client.Get("https://" + host + ":" + port + "/api/ping")
		if err != nil {
			t.Errorf("%s: %v", host, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", host, resp.StatusCode)
		}
	}
}

func TestConcurrentChains(t *testing.T) {
	f := newFixture(t, aprimotest.Options{ReplayDetection: true})
	const chains, refreshes = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, chains*(refreshes+1))
	for c := range chains {
		wg.Go(func() {
			rt := f.srv.IssueRefreshToken(clientID)
			for range refreshes {
				tok, err := f.client.Refresh(context.Background(), f.srv.URL(), clientID, secret, rt)
				if err != nil {
					errs <- fmt.Errorf("chain %d: %w", c, err)
					return
				}
				rt = tok.RefreshToken
			}
			if _, err := f.client.ClientCredentials(context.Background(), f.srv.URL(), clientID, secret, nil); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(f.srv.Requests()); n != chains*(refreshes+1) {
		t.Errorf("logged %d requests, want %d", n, chains*(refreshes+1))
	}
}

func TestLatencyDelaysAnswers(t *testing.T) {
	const latency = 50 * time.Millisecond
	f := newFixture(t, aprimotest.Options{Latency: latency})
	start := time.Now()
	if _, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), clientID, secret, nil); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < latency {
		t.Errorf("answered after %s, want at least %s", elapsed, latency)
	}
}

func TestCloseEndsHungRequests(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(t0)
	srv, err := aprimotest.NewServer(aprimotest.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddRegistration(aprimotest.Registration{ClientID: clientID, ClientSecret: secret})
	srv.FailNext(1, aprimotest.Fault{Hang: true})
	c := aprimo.NewClient(aprimo.Options{Hosts: aprimo.HostAllowlist{"127.0.0.1"}, Transport: srv.Client().Transport, Timeout: time.Minute})
	done := make(chan error)
	go func() {
		_, err := c.ClientCredentials(context.Background(), srv.URL(), clientID, secret, nil)
		done <- err
	}()
	for len(srv.Requests()) == 0 {
		runtime.Gosched()
	}
	srv.Close()
	err = <-done
	e := wantError(t, err, aprimo.ClassUnavailable, "")
	if !e.Sent || e.Answered {
		t.Errorf("sent %v, answered %v; want sent, not answered", e.Sent, e.Answered)
	}
}
