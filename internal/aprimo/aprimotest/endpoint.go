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
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// answer is what the token endpoint decided to say.
type answer struct {
	status     int
	oauthError string
	body       map[string]any
	allow      string
}

func fail(status int, code, description string) answer {
	return answer{status: status, oauthError: code,
		body: map[string]any{"error": code, "error_description": description}}
}

func (a answer) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if a.allow != "" {
		h.Set("Allow", a.allow)
	}
	w.WriteHeader(a.status)
	_ = json.NewEncoder(w).Encode(a.body)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, formErr := readForm(w, r)
	s.mu.Lock()
	now := s.clock.Now()
	rec := Request{Time: now, GrantType: form.Get("grant_type"), ClientID: form.Get("client_id")}
	if id, _, ok := r.BasicAuth(); ok && rec.ClientID == "" {
		rec.ClientID = id
	}
	if rt := form.Get("refresh_token"); rt != "" {
		rec.RefreshTokenSHA256 = sha256Hex(rt)
	}
	var fault *Fault
	if f, ok := s.takeFault(rec.ClientID); ok {
		fault = &f
	}
	var a answer
	if fault == nil || fault.Process || fault.late() {
		a = s.answer(r, form, formErr, now)
		rec.Status, rec.OAuthError = a.status, a.oauthError
	}
	if fault != nil && !fault.late() {
		rec.Status, rec.OAuthError = fault.status(), ""
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	if fault != nil && fault.late() {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
		case <-s.done:
		}
		a.write(w)
		return
	}

	if fault != nil && (fault.Hang || fault.Drop) {
		s.writeFault(w, r, *fault)
		return
	}
	s.delay(r.Context())
	if fault != nil {
		s.writeFault(w, r, *fault)
		return
	}
	a.write(w)
}

// late: the real answer, after Delay.
func (f Fault) late() bool { return f.Delay > 0 && f.Status == 0 && !f.Hang && !f.Drop && !f.Process }

func (f Fault) status() int {
	switch {
	case f.Hang || f.Drop:
		return 0
	case f.Status == 0:
		return http.StatusInternalServerError
	}
	return f.Status
}

func (s *Server) writeFault(w http.ResponseWriter, r *http.Request, f Fault) {
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	}
	if f.Hang || f.Drop {
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	}
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	if f.ContentType != "" {
		w.Header().Set("Content-Type", f.ContentType)
	}
	w.WriteHeader(f.status())
	if f.Drip > 0 {
		s.drip(w, r, f.Body, f.Drip)
		return
	}
	_, _ = io.WriteString(w, f.Body)
}

func (s *Server) delay(ctx context.Context) {
	if s.opts.Latency <= 0 {
		return
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.done:
	}
}

var (
	errMethod      = errors.New("use POST")
	errContentType = errors.New("the Content-Type must be application/x-www-form-urlencoded")
)

// readForm returns the body parameters; never nil, so that the log can read it.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return url.Values{}, errMethod
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return url.Values{}, errContentType
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return url.Values{}, errors.New("the body is not a valid form")
	}
	return r.PostForm, nil
}

// answer decides a token request. The caller holds s.mu.
func (s *Server) answer(r *http.Request, form url.Values, formErr error, now time.Time) answer {
	switch {
	case errors.Is(formErr, errMethod):
		a := fail(http.StatusMethodNotAllowed, "invalid_request", formErr.Error())
		a.allow = http.MethodPost
		return a
	case formErr != nil:
		return fail(http.StatusBadRequest, "invalid_request", formErr.Error())
	}
	for k, v := range form {
		if len(v) > 1 { // RFC 6749 §3.2
			return fail(http.StatusBadRequest, "invalid_request", fmt.Sprintf("parameter %s is repeated", k))
		}
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return fail(http.StatusBadRequest, "invalid_request", "grant_type is missing")
	}
	reg, refused, ok := s.authenticate(r, form, grant, now)
	if !ok {
		return refused
	}
	switch grant {
	case GrantClientCredentials, GrantPassword, GrantRefreshToken, GrantAuthorizationCode:
	default:
		return fail(http.StatusBadRequest, "unsupported_grant_type", "grant_type "+grant+" is not supported")
	}
	if !reg.allows(grant) {
		return fail(http.StatusBadRequest, "unauthorized_client", "the registration does not allow grant_type "+grant)
	}
	switch grant {
	case GrantClientCredentials:
		scopes, ok := grantScopes(form.Get("scope"), reg.Scopes)
		if !ok {
			return fail(http.StatusBadRequest, "invalid_scope", "a requested scope is not allowed")
		}
		return s.issue(reg, "", scopes, nil, 0, now)
	case GrantPassword:
		return s.passwordGrant(reg, form, now)
	case GrantAuthorizationCode:
		return s.authorizationCodeGrant(reg, form, now)
	default:
		return s.refreshGrant(reg, form, now)
	}
}

// authenticate checks the client. Aprimo documents the client credentials in the body for
// client_credentials and password, and only in a Basic header for refresh_token.
func (s *Server) authenticate(r *http.Request, form url.Values, grant string, now time.Time) (Registration, answer, bool) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	hasBody := form.Has("client_id") || form.Has("client_secret")
	var id, secret string
	if grant == GrantRefreshToken {
		if hasBody {
			return Registration{}, fail(http.StatusBadRequest, "invalid_client",
				"for refresh_token send the client credentials only in the Authorization header"), false
		}
		if !hasBasic {
			return Registration{}, fail(http.StatusBadRequest, "invalid_client", "client authentication is missing"), false
		}
		id, secret = basicID, basicSecret
	} else {
		if hasBasic || !hasBody {
			return Registration{}, fail(http.StatusBadRequest, "invalid_client",
				"send client_id and client_secret in the body"), false
		}
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	reg, ok := s.regs[id]
	if !ok || subtle.ConstantTimeCompare([]byte(secret), []byte(reg.ClientSecret)) != 1 || now.Before(reg.ActiveAt) {
		return Registration{}, fail(http.StatusBadRequest, "invalid_client", "unknown client or wrong secret"), false
	}
	return reg, answer{}, true
}

func (s *Server) passwordGrant(reg Registration, form url.Values, now time.Time) answer {
	user, userToken := form.Get("username"), form.Get("password")
	if user == "" || userToken == "" {
		return fail(http.StatusBadRequest, "invalid_request", "username and password are required")
	}
	want, ok := s.users[user]
	if !ok || subtle.ConstantTimeCompare([]byte(userToken), []byte(want)) != 1 {
		return fail(http.StatusBadRequest, "invalid_grant", "invalid username or user token")
	}
	scopes, ok := grantScopes(form.Get("scope"), reg.Scopes)
	if !ok {
		return fail(http.StatusBadRequest, "invalid_scope", "a requested scope is not allowed")
	}
	var refreshScopes []string
	if slices.Contains(scopes, "offline_access") {
		refreshScopes = scopes
	}
	return s.issue(reg, user, scopes, refreshScopes, 0, now)
}

func (s *Server) refreshGrant(reg Registration, form url.Values, now time.Time) answer {
	tok := form.Get("refresh_token")
	if tok == "" {
		return fail(http.StatusBadRequest, "invalid_request", "refresh_token is missing")
	}
	invalid := fail(http.StatusBadRequest, "invalid_grant", "invalid refresh token")
	rt, ok := s.refresh[tok]
	if !ok || rt.clientID != reg.ClientID {
		return invalid
	}
	switch {
	case rt.state == refreshRotated:
		if s.opts.ReplayDetection {
			s.revokeFamily(rt.family)
		}
		return invalid
	case rt.state == refreshRevoked:
		return invalid
	case !rt.expiresAt.IsZero() && !now.Before(rt.expiresAt):
		return invalid
	}
	scopes := rt.scopes
	if requested := form.Get("scope"); requested != "" {
		if scopes, ok = grantScopes(requested, rt.scopes); !ok {
			return fail(http.StatusBadRequest, "invalid_scope", "a requested scope exceeds the original grant")
		}
	}
	rt.state = refreshRotated
	return s.issue(reg, rt.username, scopes, rt.scopes, rt.family, now)
}

// grantScopes checks space-separated requested scopes against allowed; none requested
// grants all allowed, as IdentityServer (behind Aprimo's /login/connect) does.
func grantScopes(requested string, allowed []string) ([]string, bool) {
	fields := strings.Fields(requested)
	if len(fields) == 0 {
		return slices.Clone(allowed), true
	}
	var out []string
	for _, f := range fields {
		if !slices.Contains(allowed, f) {
			return nil, false
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, true
}
