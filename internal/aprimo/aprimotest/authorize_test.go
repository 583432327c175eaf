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
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

const (
	pkceID       = "pkce-app"
	pkceSecret   = "cs-Pk7Ce2Xq9Lm4Rv8T"
	redirectURI  = "http://127.0.0.1:8765/callback"
	signedInUser = "jdoe"
)

// newPKCEFixture adds a PKCE registration and signs a user in.
func newPKCEFixture(t *testing.T, opts aprimotest.Options) *fixture {
	f := newFixture(t, opts)
	f.srv.AddRegistration(aprimotest.Registration{
		ClientID: pkceID, ClientSecret: pkceSecret, RedirectURI: redirectURI,
		Grants: []string{aprimotest.GrantAuthorizationCode}, TokenLifetime: lifetime,
	})
	f.srv.SignInAs(signedInUser)
	return f
}

// browse opens u as a browser would, without following the redirect, and
// returns the status and the Location's query (or the page).
func (f *fixture) browse(t *testing.T, u string) (int, url.Values, string) {
	t.Helper()
	c := &http.Client{
		Transport:     f.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusFound {
		return resp.StatusCode, nil, string(body)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %s, want the registered %s", got, redirectURI)
	}
	return resp.StatusCode, loc.Query(), ""
}

// signIn runs the authorize step and returns the code.
func (f *fixture) signIn(t *testing.T, p aprimo.PKCE, scopes ...string) string {
	t.Helper()
	u, err := f.client.AuthorizeURL(f.srv.URL(), aprimo.AuthorizeRequest{
		ClientID: pkceID, RedirectURI: redirectURI, State: "s-1", CodeChallenge: p.Challenge, Scopes: scopes,
	})
	if err != nil {
		t.Fatal(err)
	}
	status, q, page := f.browse(t, u)
	if status != http.StatusFound || q.Get("code") == "" || q.Get("state") != "s-1" {
		t.Fatalf("authorize answered %d %v %q, want a redirect with a code and the state", status, q, page)
	}
	return q.Get("code")
}

func TestPKCELoginThenRefreshThenRecord(t *testing.T) {
	f := newPKCEFixture(t, aprimotest.Options{ReplayDetection: true})
	f.srv.AddRecord(aprimotest.Record{ID: "rec1", Title: "Hero image", Status: "Released"})
	p := aprimo.NewPKCE()
	code := f.signIn(t, p, "api", "offline_access")

	tok, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Scope != "api offline_access" || tok.Lifetime() != lifetime {
		t.Fatalf("token = refresh %v, scope %q, lifetime %s", tok.RefreshToken != "", tok.Scope, tok.Lifetime())
	}
	// The refresh grant takes the login's refresh token and rotates it.
	next, err := f.client.Refresh(t.Context(), f.srv.URL(), pkceID, pkceSecret, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatal("the refresh grant did not rotate the login's refresh token")
	}
	_, err = f.client.Refresh(t.Context(), f.srv.URL(), pkceID, pkceSecret, tok.RefreshToken)
	wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant")

	a, err := f.client.GetRecord(t.Context(), f.srv.URL(), next.AccessToken, "rec1")
	if err != nil || a.StatusCode != 200 || a.Title != "Hero image" || a.Status != "Released" {
		t.Fatalf("GetRecord = %+v, %v", a, err)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	challenge := aprimo.NewPKCE().Challenge
	base := url.Values{
		"response_type": {"code"}, "state": {"s-1"}, "client_id": {pkceID}, "redirect_uri": {redirectURI},
		"scope": {"api offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	tests := map[string]struct {
		change    func(q url.Values)
		setup     func(f *fixture)
		wantPage  string // an error page, no redirect
		wantError string // a redirect back with error=
	}{
		"unknown client": {change: func(q url.Values) { q.Set("client_id", "who") }, wantPage: "invalid_client"},
		"a new registration": {
			setup: func(f *fixture) {
				f.srv.AddRegistration(aprimotest.Registration{ClientID: "fresh", ClientSecret: pkceSecret, RedirectURI: redirectURI,
					Grants: []string{aprimotest.GrantAuthorizationCode}, ActiveAt: t0.Add(15 * time.Minute)})
			},
			change: func(q url.Values) { q.Set("client_id", "fresh") }, wantPage: "invalid_client",
		},
		"not a PKCE registration":     {change: func(q url.Values) { q.Set("client_id", clientID) }, wantPage: "unauthorized_client"},
		"another redirect_uri":        {change: func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9999/callback") }, wantPage: "redirect_uri does not match"},
		"redirect_uri with a slash":   {change: func(q url.Values) { q.Set("redirect_uri", redirectURI+"/") }, wantPage: "redirect_uri does not match"},
		"response_type token":         {change: func(q url.Values) { q.Set("response_type", "token") }, wantError: "unsupported_response_type"},
		"no challenge":                {change: func(q url.Values) { q.Del("code_challenge") }, wantError: "invalid_request"},
		"plain method":                {change: func(q url.Values) { q.Set("code_challenge_method", "plain") }, wantError: "invalid_request"},
		"the document's S265 typo":    {change: func(q url.Values) { q.Set("code_challenge_method", "S265") }, wantError: "invalid_request"},
		"a challenge that is no hash": {change: func(q url.Values) { q.Set("code_challenge", "123456qwertyy789") }, wantError: "invalid_request"},
		"an unknown scope":            {change: func(q url.Values) { q.Set("scope", "api admin") }, wantError: "invalid_scope"},
		"no scope":                    {change: func(q url.Values) { q.Del("scope") }, wantError: "invalid_scope"},
		"nobody signed in":            {setup: func(f *fixture) { f.srv.SignInAs("") }, wantError: "access_denied"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newPKCEFixture(t, aprimotest.Options{})
			if tc.setup != nil {
				tc.setup(f)
			}
			q := url.Values{}
			for k, v := range base {
				q[k] = v
			}
			if tc.change != nil {
				tc.change(q)
			}
			status, back, page := f.browse(t, f.srv.URL()+"/login/connect/authorize?"+q.Encode())
			if tc.wantPage != "" {
				if status != http.StatusBadRequest || !strings.Contains(page, tc.wantPage) {
					t.Fatalf("answer = %d %q, want an error page with %q", status, page, tc.wantPage)
				}
				return
			}
			if status != http.StatusFound || back.Get("error") != tc.wantError || back.Get("state") != "s-1" || back.Has("code") {
				t.Fatalf("answer = %d %v, want a redirect with error=%s, the state and no code", status, back, tc.wantError)
			}
		})
	}
}

func TestCodeExchangeRefusals(t *testing.T) {
	tests := map[string]struct {
		exchange  func(f *fixture, code string, p aprimo.PKCE) error
		wantOAuth string
		// keepsCode: another client cannot burn a code that is not its own.
		keepsCode bool
	}{
		"wrong verifier": {
			exchange: func(f *fixture, code string, _ aprimo.PKCE) error {
				_, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, aprimo.NewPKCE().Verifier)
				return err
			},
			wantOAuth: "invalid_grant",
		},
		"no verifier": {
			exchange: func(f *fixture, code string, _ aprimo.PKCE) error {
				_, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, "")
				return err
			},
			wantOAuth: "invalid_grant",
		},
		"another redirect_uri": {
			exchange: func(f *fixture, code string, p aprimo.PKCE) error {
				_, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, "http://127.0.0.1:1/cb", p.Verifier)
				return err
			},
			wantOAuth: "invalid_grant",
		},
		"expired code": {
			exchange: func(f *fixture, code string, p aprimo.PKCE) error {
				f.clock.SetTime(t0.Add(aprimotest.AuthorizationCodeLifetime))
				_, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, p.Verifier)
				return err
			},
			wantOAuth: "invalid_grant",
		},
		"another client's code": {
			exchange: func(f *fixture, code string, p aprimo.PKCE) error {
				f.srv.AddRegistration(aprimotest.Registration{ClientID: "other", ClientSecret: pkceSecret, RedirectURI: redirectURI,
					Grants: []string{aprimotest.GrantAuthorizationCode}})
				_, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), "other", pkceSecret, code, redirectURI, p.Verifier)
				return err
			},
			wantOAuth: "invalid_grant", keepsCode: true,
		},
		"wrong client secret": {
			exchange: func(f *fixture, code string, p aprimo.PKCE) error {
				_, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, "nope", code, redirectURI, p.Verifier)
				return err
			},
			wantOAuth: "invalid_client",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f := newPKCEFixture(t, aprimotest.Options{})
			p := aprimo.NewPKCE()
			code := f.signIn(t, p, "api", "offline_access")
			err := tc.exchange(f, code, p)
			var e *aprimo.Error
			assertNoLeak(t, err, pkceSecret, code, p.Verifier)
			if !asError(err, &e) || e.OAuthError != tc.wantOAuth {
				t.Fatalf("error = %v, want %s", err, tc.wantOAuth)
			}
			f.clock.SetTime(t0)
			_, err = f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, p.Verifier)
			if tc.wantOAuth == "invalid_grant" && !tc.keepsCode {
				// A code is tried once: the right request now fails too.
				wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant")
			} else if err != nil {
				t.Fatalf("the right request after the refusal failed: %v", err)
			}
		})
	}
}

func TestReplayedCodeRevokesWhatItIssued(t *testing.T) {
	f := newPKCEFixture(t, aprimotest.Options{ReplayDetection: true})
	p := aprimo.NewPKCE()
	code := f.signIn(t, p, "api", "offline_access")
	tok, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, p.Verifier)
	wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant")
	_, err = f.client.Refresh(t.Context(), f.srv.URL(), pkceID, pkceSecret, tok.RefreshToken)
	wantError(t, err, aprimo.ClassInvalidGrant, "invalid_grant")
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	f := newPKCEFixture(t, aprimotest.Options{})
	p := aprimo.NewPKCE()
	code := f.signIn(t, p, "api")
	tok, err := f.client.AuthorizationCode(t.Context(), f.srv.URL(), pkceID, pkceSecret, code, redirectURI, p.Verifier)
	if err != nil || tok.RefreshToken != "" {
		t.Fatalf("token = %v, %v; want an access token only", tok != nil && tok.RefreshToken != "", err)
	}
}

func TestRecordEndpoint(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	f.srv.AddRecord(aprimotest.Record{ID: "rec1", Title: "Hero image", Status: "Draft"})
	tok, err := f.client.ClientCredentials(t.Context(), f.srv.URL(), clientID, secret, []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	get := func(id, bearer string, version bool) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL()+"/api/core/record/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		if version {
			req.Header.Set("API-VERSION", "1")
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get("rec1", tok.AccessToken, true); status != 200 || !strings.Contains(body, `"title":"Hero image"`) || !strings.Contains(body, `"status":"Draft"`) {
		t.Errorf("valid request: %d %s", status, body)
	}
	if status, _ := get("rec1", tok.AccessToken, false); status != 400 {
		t.Errorf("without API-VERSION: %d, want 400", status)
	}
	if status, _ := get("nope", tok.AccessToken, true); status != 404 {
		t.Errorf("unknown record: %d, want 404", status)
	}
	if status, body := get("rec1", "not-a-token", true); status != 401 || body != "" {
		t.Errorf("unknown token: %d %q, want 401 with an empty body", status, body)
	}
	f.clock.SetTime(t0.Add(lifetime))
	if status, body := get("rec1", tok.AccessToken, true); status != 401 || body != "" {
		t.Errorf("expired token: %d %q, want 401 with an empty body", status, body)
	}
}

func asError(err error, target **aprimo.Error) bool { return errors.As(err, target) }
