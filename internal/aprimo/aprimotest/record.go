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
	"encoding/json"
	"net/http"
	"strings"
)

const recordPath = "/api/core/record/"

// Record is a DAM record, as GET /api/core/record/{id} returns it.
type Record struct {
	ID, Title, Status string
}

// AddRecord adds or replaces a record.
func (s *Server) AddRecord(rec Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.records == nil {
		s.records = map[string]Record{}
	}
	s.records[rec.ID] = rec
}

// handleRecord is the DAM REST API's "Get Single Record": a valid bearer token
// and API-VERSION: 1, or the errors the API gives.
func (s *Server) handleRecord(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		apiError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	if !s.bearerValid(r) {
		unauthorized(w)
		return
	}
	if r.Header.Get("API-VERSION") != "1" {
		apiError(w, http.StatusBadRequest, "the API-VERSION header is required: send API-VERSION: 1")
		return
	}
	s.mu.Lock()
	rec, ok := s.records[strings.TrimPrefix(r.URL.Path, recordPath)]
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, "record not found")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": rec.ID, "title": rec.Title, "status": rec.Status, "contentType": "Image", "_kind": "Record",
	})
}

// bearerValid reports whether r carries a valid access token of this server.
func (s *Server) bearerValid(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	return ok && strings.EqualFold(scheme, "Bearer") && s.ValidAccessToken(tok)
}

// unauthorized is Aprimo's answer to an expired or unknown token: 401, empty body.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	w.WriteHeader(http.StatusUnauthorized)
}

func apiError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
