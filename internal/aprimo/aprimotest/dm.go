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
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"
)

const dmTokenPath = "/api/v1.0/token"

// handleOtherAuthorizations registers the Aprimo DM token endpoint and the three
// endpoints of the legacy authorization.
func (s *Server) handleOtherAuthorizations(mux *http.ServeMux) {
	mux.HandleFunc(dmTokenPath, s.handleDMToken)
	mux.HandleFunc(legacyNativePath, s.handleLegacyNative)
	mux.HandleFunc(legacyRefreshPath, s.handleLegacyRefresh)
	mux.HandleFunc(legacyRevokePath, s.handleLegacyRevoke)
}

// handleDMToken is Aprimo DM's token endpoint: the resource owner password flow
// only, a form with UserName and Password capitalised as the DM document has them,
// grant_type=password and client_id, and no client secret. DM's users are the
// fake's users (AddUser), the password being the user token.
func (s *Server) handleDMToken(w http.ResponseWriter, r *http.Request) {
	form, formErr := readForm(w, r)
	rec := Request{GrantType: form.Get("grant_type"), ClientID: form.Get("client_id"), Path: dmTokenPath}
	s.serve(w, r, rec, func(now time.Time) reply { return s.dmAnswer(form, formErr, now).reply() })
}

func (s *Server) dmAnswer(form url.Values, formErr error, now time.Time) answer {
	switch {
	case errors.Is(formErr, errMethod):
		a := fail(http.StatusMethodNotAllowed, "invalid_request", formErr.Error())
		a.allow = http.MethodPost
		return a
	case formErr != nil:
		return fail(http.StatusBadRequest, "invalid_request", formErr.Error())
	}
	reg, ok := s.regs[form.Get("client_id")]
	if !ok || !reg.allows(GrantDistributedMarketing) {
		return fail(http.StatusBadRequest, "invalid_client", "unknown client")
	}
	if form.Get("grant_type") != "password" {
		return fail(http.StatusBadRequest, "unsupported_grant_type", "only grant_type password is supported")
	}
	user, password := form.Get("UserName"), form.Get("Password")
	if user == "" || password == "" {
		return fail(http.StatusBadRequest, "invalid_request", "UserName and Password are required")
	}
	want, ok := s.users[user]
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 {
		return fail(http.StatusBadRequest, "invalid_grant", "The user name or password is incorrect.")
	}
	// As in the DM document: lower-case "bearer", and an hour as 3599 seconds.
	secs := max(int64(reg.TokenLifetime/time.Second)-1, 1)
	at := newToken()
	s.access[at] = accessToken{clientID: reg.ClientID, expiresAt: now.Add(time.Duration(secs) * time.Second)}
	return answer{status: 200, body: map[string]any{"access_token": at, "token_type": "bearer", "expires_in": secs}}
}
