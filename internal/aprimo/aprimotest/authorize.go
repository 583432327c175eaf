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

package aprimotest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const authorizePath = "/login/connect/authorize"

// AuthorizationCodeLifetime is how long a code from the authorize endpoint can
// be exchanged: IdentityServer's default, which Aprimo's /login/connect runs on.
const AuthorizationCodeLifetime = 5 * time.Minute

// authCode is a code the authorize endpoint issued.
type authCode struct {
	clientID, redirectURI, challenge, username string
	scopes                                     []string
	expiresAt                                  time.Time
	used                                       bool
	// family of the refresh token the exchange issued, to revoke it if the code
	// is replayed (RFC 6749 §4.1.2); 0 when none.
	family int
}

// SignInAs sets the user the fake's sign-in page signs in, standing for the
// person in the browser: every authorize request from then on is approved as
// username. "" signs nobody in, and the authorize endpoint answers access_denied.
func (s *Server) SignInAs(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signedIn = username
}

// handleAuthorize is the sign-in of the authorization code flow with PKCE, as
// Aprimo's document describes it. Requests it cannot trust to redirect (an
// unknown client, a redirect_uri that is not the registration's) get an error
// page; other refusals go back to redirect_uri with error and state (RFC 6749
// §4.1.2.1). A signed-in user is redirected with a single-use code.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		errorPage(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	q := r.URL.Query()
	for _, v := range q {
		if len(v) > 1 {
			errorPage(w, http.StatusBadRequest, "invalid_request: a parameter is repeated")
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	reg, ok := s.regs[q.Get("client_id")]
	switch {
	case !ok || now.Before(reg.ActiveAt):
		errorPage(w, http.StatusBadRequest, "invalid_client: unknown client or client not enabled")
		return
	case !slices.Contains(reg.Grants, GrantAuthorizationCode):
		errorPage(w, http.StatusBadRequest, "unauthorized_client: the registration's OAuth Flow Type is not Authorization Code (PKCE)")
		return
	case reg.RedirectURI == "" || q.Get("redirect_uri") != reg.RedirectURI:
		errorPage(w, http.StatusBadRequest, "invalid_request: redirect_uri does not match the registration's Redirect URL")
		return
	}
	back := func(params ...string) {
		u, err := url.Parse(reg.RedirectURI)
		if err != nil {
			errorPage(w, http.StatusInternalServerError, "the registration's Redirect URL is not a URL")
			return
		}
		v := u.Query()
		for i := 0; i+1 < len(params); i += 2 {
			v.Set(params[i], params[i+1])
		}
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	refuse := func(code, description string) { back("error", code, "error_description", description) }
	scopes, scopeOK := grantScopes(q.Get("scope"), reg.Scopes)
	switch {
	case q.Get("response_type") != "code":
		refuse("unsupported_response_type", "response_type must be code")
	case q.Get("code_challenge") == "":
		refuse("invalid_request", "code_challenge is required")
	case q.Get("code_challenge_method") != "S256":
		refuse("invalid_request", "code_challenge_method must be S256")
	case !isChallenge(q.Get("code_challenge")):
		refuse("invalid_request", "code_challenge is not a base64url SHA-256")
	case q.Get("scope") == "" || !scopeOK:
		refuse("invalid_scope", "a requested scope is missing or not allowed")
	case s.signedIn == "":
		refuse("access_denied", "nobody signed in (aprimotest: call SignInAs)")
	default:
		code := newToken()
		if s.codes == nil {
			s.codes = map[string]*authCode{}
		}
		s.codes[code] = &authCode{
			clientID: reg.ClientID, redirectURI: reg.RedirectURI, challenge: q.Get("code_challenge"),
			username: s.signedIn, scopes: scopes, expiresAt: now.Add(AuthorizationCodeLifetime),
		}
		back("code", code, "scope", strings.Join(scopes, " "))
	}
}

// authorizationCodeGrant exchanges a code once, checking the client, the
// redirect_uri and the PKCE verifier. The caller holds s.mu.
func (s *Server) authorizationCodeGrant(reg Registration, form url.Values, now time.Time) answer {
	code := form.Get("code")
	if code == "" {
		return fail(http.StatusBadRequest, "invalid_request", "code is missing")
	}
	ac, ok := s.codes[code]
	if !ok || ac.clientID != reg.ClientID {
		return fail(http.StatusBadRequest, "invalid_grant", "invalid authorization code")
	}
	if ac.used {
		if s.opts.ReplayDetection && ac.family != 0 {
			s.revokeFamily(ac.family)
		}
		return fail(http.StatusBadRequest, "invalid_grant", "invalid authorization code")
	}
	ac.used = true // whatever follows: a code is tried once
	verifier := form.Get("code_verifier")
	switch {
	case !now.Before(ac.expiresAt):
		return fail(http.StatusBadRequest, "invalid_grant", "authorization code expired")
	case form.Get("redirect_uri") != ac.redirectURI:
		return fail(http.StatusBadRequest, "invalid_grant", "redirect_uri does not match the authorize request")
	case !isVerifier(verifier):
		return fail(http.StatusBadRequest, "invalid_grant", "code_verifier is missing or malformed")
	case subtle.ConstantTimeCompare([]byte(s256(verifier)), []byte(ac.challenge)) != 1:
		return fail(http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
	}
	var refreshScopes []string
	if slices.Contains(ac.scopes, "offline_access") {
		refreshScopes = ac.scopes
	}
	a := s.issue(reg, ac.username, ac.scopes, refreshScopes, 0, now)
	if refreshScopes != nil {
		ac.family = s.families
	}
	return a
}

// s256 is the PKCE S256 transform (RFC 7636 §4.2), written here apart from the
// client's so that the fake checks it independently.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// isVerifier checks RFC 7636 §4.1: 43 to 128 of A-Z a-z 0-9 - . _ ~.
func isVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// isChallenge checks that c is 43 base64url characters, a SHA-256.
func isChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// errorPage is the fake's sign-in error screen. It never echoes the request.
func errorPage(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html><title>Aprimo sign-in error</title><p>" + message + "</p>\n"))
}
