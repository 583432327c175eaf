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

import "strings"

// QuotesSecret reports whether text contains 8 consecutive bytes of any of the secrets
// (all of a secret shorter than that). Tests use it on error strings, condition messages,
// events and logs: none may quote a client secret, user token or token.
func QuotesSecret(text string, secrets ...string) bool {
	for _, s := range secrets {
		n := min(8, len(s))
		for i := 0; n > 0 && i+n <= len(s); i++ {
			if strings.Contains(text, s[i:i+n]) {
				return true
			}
		}
	}
	return false
}

// Secrets returns every secret value the fake knows: client secrets, user
// tokens, and every access token, refresh token and authorization code it ever
// issued, dead or alive.
// A test scans logs, events and status for all of them with QuotesSecret.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.regs {
		out = append(out, r.ClientSecret)
	}
	for _, t := range s.users {
		out = append(out, t)
	}
	for t := range s.access {
		out = append(out, t)
	}
	for t := range s.refresh {
		out = append(out, t)
	}
	for c := range s.codes {
		out = append(out, c)
	}
	return append(out, s.legacy.secrets()...)
}
