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
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode"
)

// RecordPath is where the DAM REST API serves one record, under the DAM's base URL.
const RecordPath = "/api/core/record/"

// DAMBaseURL returns the base URL of a tenant's DAM, "https://<tenant>.dam.aprimo.com".
func DAMBaseURL(tenant string) string {
	return "https://" + tenant + ".dam.aprimo.com"
}

// DAMBaseURLFor derives the DAM's base URL from a tenant's base URL
// (https://acme.aprimo.com gives https://acme.dam.aprimo.com); false when base
// is not of that form.
func DAMBaseURLFor(base string) (string, bool) {
	u, err := url.Parse(base)
	if err != nil || u.Port() != "" {
		return "", false
	}
	tenant, ok := strings.CutSuffix(strings.ToLower(u.Hostname()), ".aprimo.com")
	if !ok || !isDNSName(tenant) || strings.Contains(tenant, ".") {
		return "", false
	}
	return DAMBaseURL(tenant), true
}

// RecordAnswer is what the DAM answered for one record. Title and Status come
// from a 2xx JSON body, cleaned for a terminal; they are "" otherwise.
type RecordAnswer struct {
	// URL requested, without the token.
	URL        string
	StatusCode int
	Title      string
	Status     string
}

// ValidRecordID accepts what a record ID can be (Aprimo's are 32 hex digits):
// letters, digits and - . _ ~, so that it is one path segment as it stands.
func ValidRecordID(id string) error {
	if id == "" || len(id) > 128 || strings.Trim(id, ".") == "" {
		return errors.New("a record ID is letters, digits and - . _ ~ (Aprimo's are 32 hex digits)")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return errors.New("a record ID is letters, digits and - . _ ~ (Aprimo's are 32 hex digits)")
		}
	}
	return nil
}

// maxField caps the title and status shown.
const maxField = 200

// GetRecord reads one DAM record with an access token: GET
// <damBase>/api/core/record/<id> with API-VERSION: 1, as the "Get Single
// Record" action does. Every HTTP answer, 401 included, is a RecordAnswer; the
// error is for no answer, a host that is not allowed, a redirect (never
// followed) or a 2xx that is not a JSON object. It never quotes the token.
func (c *Client) GetRecord(ctx context.Context, damBase, accessToken, recordID string) (*RecordAnswer, error) {
	u, err := c.baseURL(damBase, "DAM API")
	if err != nil {
		return nil, err
	}
	if err := ValidRecordID(recordID); err != nil {
		return nil, &Error{Class: ClassInvalidResponse, msg: err.Error() + "; nothing was sent"}
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + RecordPath + recordID
	u.RawPath = ""
	secrets := newSecretSet(accessToken)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &Error{Class: ClassHostNotAllowed, msg: "DAM API URL is not valid"}
	}
	req.Header.Set("API-VERSION", "1")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Authorization", "Bearer "+accessToken)

	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = secrets.scrub(err)
		return nil, &Error{Class: ClassUnavailable, Err: err, msg: fmt.Sprintf("DAM API %s did not answer: %v", u.Host, err)}
	}
	defer func() { _ = resp.Body.Close() }()
	a := &RecordAnswer{URL: u.String(), StatusCode: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return a, &Error{Class: ClassInvalidResponse, StatusCode: resp.StatusCode, Sent: true, Answered: true,
			msg: fmt.Sprintf("DAM API %s answered HTTP %d, a redirect that is not followed: check the DAM URL", u.Host, resp.StatusCode)}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return a, nil
	}
	body, err := readLimited(resp.Body, c.maxBody)
	if err != nil {
		err = secrets.scrub(err)
		return a, &Error{Class: ClassInvalidResponse, StatusCode: resp.StatusCode, Sent: true, Answered: true, Err: err,
			msg: fmt.Sprintf("DAM API %s answered HTTP %d but the body could not be read: %v", u.Host, resp.StatusCode, err)}
	}
	var rec struct {
		Title  json.RawMessage `json:"title"`
		Status json.RawMessage `json:"status"`
	}
	if looksHTML(resp.Header.Get("Content-Type"), body) || json.Unmarshal(body, &rec) != nil {
		return a, &Error{Class: ClassInvalidResponse, StatusCode: resp.StatusCode, Sent: true, Answered: true,
			msg: fmt.Sprintf("DAM API %s answered HTTP %d without a JSON record (a proxy or login page?)", u.Host, resp.StatusCode)}
	}
	a.Title = displayField(rec.Title, secrets)
	a.Status = displayField(rec.Status, secrets)
	return a, nil
}

// displayField returns a JSON string (or other scalar) as one line of at most
// maxField printable characters, so that a record cannot drive the terminal;
// "" if it quotes the token.
func displayField(raw json.RawMessage, secrets secretSet) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = strings.TrimSpace(string(raw)) // a number or a bool; objects are not shown
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") || s == "null" {
			s = ""
		}
	}
	var b strings.Builder
	n := 0
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if n == maxField {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = '?'
		}
		b.WriteRune(r)
		n++
	}
	if secrets.quotes(b.String()) {
		return ""
	}
	return b.String()
}
