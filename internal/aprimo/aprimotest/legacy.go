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
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Aprimo's legacy authorization, as the fake plays it:
//   - POST /api/oauth/create-native-token with headers client-id (a registration
//     with GrantLegacy), Content-Type application/json and Basic user:user token
//     answers {"accessToken": …, "refreshToken": …}: camelCase and no expires_in, as
//     Aprimo's documents show no body; the access token is a JWT whose exp claim
//     carries the registration's TokenLifetime.
//   - POST /api/token with client-id and {"refreshToken": …} answers {"accessToken": …}.
//     A legacy refresh token is not single-use: the document says it gets new access
//     tokens for 7 days (Registration.LegacyRefreshTokenLifetime); it is opaque, or
//     a JWT with iat and exp (Registration.LegacyJWTRefreshTokens). An expired or
//     revoked one answers 401 with an empty body, as the document describes an
//     expired token.
//   - DELETE /api/oauth/revoke/{userID} with client-id and a Bearer access token of
//     that user revokes all of the user's refresh tokens, of every client.
const (
	legacyNativePath  = "/api/oauth/create-native-token"
	legacyRefreshPath = "/api/token"
	legacyRevokePath  = "/api/oauth/revoke/"

	// Grant types recorded in Request for the legacy endpoints.
	LegacyNativeToken = "legacy_native_token"
	LegacyRefresh     = "legacy_refresh"
	LegacyRevoke      = "legacy_revoke"

	// DefaultLegacyRefreshTokenLifetime is the documented 7 days.
	DefaultLegacyRefreshTokenLifetime = 7 * 24 * time.Hour
)

type legacyState struct {
	refresh map[string]*legacyRefreshToken
	// user of each legacy access token, for the revoke route's permission check.
	accessUser map[string]string
	userIDs    map[string]string
	signKey    []byte
}

type legacyRefreshToken struct {
	clientID, username string
	expiresAt          time.Time
	revoked            bool
}

func (l *legacyState) init() {
	if l.refresh == nil {
		l.refresh, l.accessUser, l.userIDs = map[string]*legacyRefreshToken{}, map[string]string{}, map[string]string{}
		l.signKey = []byte(newToken())
	}
}

// secrets are the legacy refresh tokens; the caller holds s.mu. (Legacy access
// tokens are in s.access.)
func (l *legacyState) secrets() []string {
	out := make([]string, 0, len(l.refresh))
	for t := range l.refresh {
		out = append(out, t)
	}
	return out
}

// UserID returns the Aprimo user ID of a user, as the revoke route takes it.
func (s *Server) UserID(username string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userIDLocked(username)
}

func (s *Server) userIDLocked(username string) string {
	s.legacy.init()
	id, ok := s.legacy.userIDs[username]
	if !ok {
		id = strconv.Itoa(1000 + len(s.legacy.userIDs))
		s.legacy.userIDs[username] = id
	}
	return id
}

// LiveLegacyRefreshTokens counts a user's legacy refresh tokens that are neither
// expired nor revoked.
func (s *Server) LiveLegacyRefreshTokens(username string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, rt := range s.legacy.refresh {
		if rt.username == username && !rt.revoked && s.clock.Now().Before(rt.expiresAt) {
			n++
		}
	}
	return n
}

// RevokeLegacyRefreshTokens revokes every legacy refresh token of a user, as the
// revoke route does.
func (s *Server) RevokeLegacyRefreshTokens(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLegacyLocked(username)
}

func (s *Server) revokeLegacyLocked(username string) {
	for _, rt := range s.legacy.refresh {
		if rt.username == username {
			rt.revoked = true
		}
	}
}

func (s *Server) handleLegacyNative(w http.ResponseWriter, r *http.Request) {
	rec := Request{GrantType: LegacyNativeToken, ClientID: r.Header.Get("client-id"), Path: legacyNativePath}
	badRequest := legacyRequestError(r, http.MethodPost, true)
	s.serve(w, r, rec, func(now time.Time) reply {
		if badRequest != nil {
			return *badRequest
		}
		reg, ok := s.legacyClient(rec.ClientID)
		if !ok {
			return legacyMessage(http.StatusUnauthorized, "The client-id is not a registration with OAuth Flow Type None.")
		}
		user, userToken, ok := r.BasicAuth()
		want, known := s.users[user]
		if !ok || !known || subtle.ConstantTimeCompare([]byte(userToken), []byte(want)) != 1 {
			return legacyMessage(http.StatusUnauthorized, "Authorization has been denied for this request.")
		}
		life := reg.LegacyRefreshTokenLifetime
		if life <= 0 {
			life = DefaultLegacyRefreshTokenLifetime
		}
		rt := newToken()
		if reg.LegacyJWTRefreshTokens {
			rt = s.signedJWT(map[string]any{"sub": s.userIDLocked(user), "jti": rt, "iat": now.Unix(), "exp": now.Add(life).Unix()})
		}
		s.legacy.refresh[rt] = &legacyRefreshToken{clientID: reg.ClientID, username: user, expiresAt: now.Add(life)}
		return jsonReply(map[string]any{"accessToken": s.legacyAccessToken(reg, user, now), "refreshToken": rt})
	})
}

func (s *Server) handleLegacyRefresh(w http.ResponseWriter, r *http.Request) {
	rec := Request{GrantType: LegacyRefresh, ClientID: r.Header.Get("client-id"), Path: legacyRefreshPath}
	badRequest := legacyRequestError(r, http.MethodPost, true)
	var body struct {
		RefreshToken string `json:"refreshToken"`
	}
	if badRequest == nil {
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || body.RefreshToken == "" {
			m := legacyMessage(http.StatusBadRequest, `The body must be {"refreshToken": "…"}.`)
			badRequest = &m
		}
	}
	if body.RefreshToken != "" {
		rec.RefreshTokenSHA256 = sha256Hex(body.RefreshToken)
	}
	s.serve(w, r, rec, func(now time.Time) reply {
		if badRequest != nil {
			return *badRequest
		}
		reg, ok := s.legacyClient(rec.ClientID)
		if !ok {
			return legacyMessage(http.StatusUnauthorized, "The client-id is not a registration with OAuth Flow Type None.")
		}
		rt, ok := s.legacy.refresh[body.RefreshToken]
		switch {
		case !ok || rt.clientID != reg.ClientID:
			return legacyMessage(http.StatusBadRequest, "Invalid refresh token.")
		case rt.revoked || !now.Before(rt.expiresAt):
			return reply{status: http.StatusUnauthorized} // expired: 401, empty body
		}
		return jsonReply(map[string]any{"accessToken": s.legacyAccessToken(reg, rt.username, now)})
	})
}

func (s *Server) handleLegacyRevoke(w http.ResponseWriter, r *http.Request) {
	rec := Request{GrantType: LegacyRevoke, ClientID: r.Header.Get("client-id"), Path: legacyRevokePath}
	badRequest := legacyRequestError(r, http.MethodDelete, false)
	userID := strings.TrimPrefix(r.URL.Path, legacyRevokePath)
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.serve(w, r, rec, func(now time.Time) reply {
		if badRequest != nil {
			return *badRequest
		}
		if _, ok := s.legacyClient(rec.ClientID); !ok {
			return legacyMessage(http.StatusUnauthorized, "The client-id is not a registration with OAuth Flow Type None.")
		}
		at, ok := s.access[tok]
		if !strings.EqualFold(scheme, "Bearer") || !ok || !now.Before(at.expiresAt) {
			return reply{status: http.StatusUnauthorized} // expired: 401, empty body
		}
		user := s.legacy.accessUser[tok]
		if user == "" || s.userIDLocked(user) != userID {
			return legacyMessage(http.StatusForbidden, "The API user may revoke only its own refresh tokens.")
		}
		s.revokeLegacyLocked(user)
		return reply{status: http.StatusNoContent}
	})
}

// legacyClient returns a registration that may use the legacy authorization; the
// caller holds s.mu.
func (s *Server) legacyClient(clientID string) (Registration, bool) {
	reg, ok := s.regs[clientID]
	return reg, ok && reg.allows(GrantLegacy)
}

// legacyAccessToken mints a JWT access token of a user; the caller holds s.mu.
func (s *Server) legacyAccessToken(reg Registration, user string, now time.Time) string {
	s.legacy.init()
	secs := max(int64(reg.TokenLifetime/time.Second), 1)
	tok := s.signedJWT(map[string]any{
		"sub": s.userIDLocked(user), "client_id": reg.ClientID, "jti": newToken(),
		"iat": now.Unix(), "exp": now.Unix() + secs,
	})
	s.access[tok] = accessToken{clientID: reg.ClientID, expiresAt: now.Add(time.Duration(secs) * time.Second)}
	s.legacy.accessUser[tok] = user
	return tok
}

// signedJWT returns an HS256 JWT of claims; the caller holds s.mu.
func (s *Server) signedJWT(claims map[string]any) string {
	s.legacy.init()
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(claims)
	unsigned := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc(payload)
	mac := hmac.New(sha256.New, s.legacy.signKey)
	mac.Write([]byte(unsigned))
	return unsigned + "." + enc(mac.Sum(nil))
}

// legacyRequestError checks method and, for POSTs, the JSON content type the
// document asks for ("content-type : application/Json").
func legacyRequestError(r *http.Request, method string, wantJSON bool) *reply {
	if r.Method != method {
		m := legacyMessage(http.StatusMethodNotAllowed, fmt.Sprintf("Use %s.", method))
		m.header = http.Header{"Allow": {method}}
		return &m
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); wantJSON && (err != nil || mt != "application/json") {
		m := legacyMessage(http.StatusUnsupportedMediaType, "The Content-Type must be application/json.")
		return &m
	}
	return nil
}

// reply is an answer of the DM or legacy endpoints.
type reply struct {
	status int
	body   []byte // nil: an empty body
	header http.Header
}

func jsonReply(v map[string]any) reply {
	b, _ := json.Marshal(v)
	return reply{status: http.StatusOK, body: b}
}

// legacyMessage is an ASP.NET Web API style error: {"message": …}.
func legacyMessage(status int, msg string) reply {
	b, _ := json.Marshal(map[string]string{"message": msg})
	return reply{status: status, body: b}
}

func (a answer) reply() reply {
	b, _ := json.Marshal(a.body)
	r := reply{status: a.status, body: b}
	if a.allow != "" {
		r.header = http.Header{"Allow": {a.allow}}
	}
	return r
}

func (rp reply) write(w http.ResponseWriter) {
	for k, v := range rp.header {
		w.Header()[k] = v
	}
	if rp.body != nil {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body)
}

// serve records rec and answers with decide (called with s.mu held), honouring
// faults for rec.ClientID as the OAuth token endpoint does.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rec Request, decide func(now time.Time) reply) {
	s.mu.Lock()
	s.legacy.init()
	now := s.clock.Now()
	rec.Time = now
	var fault *Fault
	if f, ok := s.takeFault(rec.ClientID); ok {
		fault = &f
	}
	var rp reply
	if fault == nil || fault.Process || fault.late() {
		rp = decide(now)
		rec.Status = rp.status
	}
	if fault != nil && !fault.late() {
		rec.Status = fault.status()
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	switch {
	case fault != nil && fault.late():
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
		case <-s.done:
		}
	case fault != nil && (fault.Hang || fault.Drop):
		s.writeFault(w, r, *fault)
		return
	case fault != nil:
		s.delay(r.Context())
		s.writeFault(w, r, *fault)
		return
	default:
		s.delay(r.Context())
	}
	rp.write(w)
}
