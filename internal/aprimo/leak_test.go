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
	"errors"
	"fmt"
	"strings"
	"testing"
)

// quotedSecret returns the first 8-byte window (or whole short secret) of a secret that
// text contains. It is written apart from secretSet on purpose: the test must not share
// the code it checks.
func quotedSecret(text string, secrets ...string) (string, bool) {
	for _, s := range secrets {
		n := min(8, len(s))
		for i := 0; n > 0 && i+n <= len(s); i++ {
			if strings.Contains(text, s[i:i+n]) {
				return s[i : i+n], true
			}
		}
	}
	return "", false
}

// assertNoLeak fails the test if err, its fields or its chain quote any secret.
func assertNoLeak(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	texts := []string{err.Error(), fmt.Sprintf("%+v", err)}
	var ae *Error
	if errors.As(err, &ae) {
		texts = append(texts, ae.Description, ae.OAuthError)
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		texts = append(texts, e.Error())
	}
	for _, text := range texts {
		if w, ok := quotedSecret(text, secrets...); ok {
			t.Errorf("error text quotes secret bytes %q: %q", w, text)
		}
	}
}

func TestQuotedSecretSeesEveryWindow(t *testing.T) {
	tests := map[string]struct {
		text    string
		secrets []string
		want    bool
	}{
		"no secret":             {text: "token endpoint refused", secrets: []string{"abcdefghijkl"}},
		"8 bytes from the end":  {text: "x efghijkl y", secrets: []string{"abcdefghijkl"}, want: true},
		"8 bytes in the middle": {text: "cdefghij", secrets: []string{"abcdefghijkl"}, want: true},
		"7 bytes are fine":      {text: "cdefghi", secrets: []string{"abcdefghijkl"}},
		"short secret whole":    {text: "the pw is abc!", secrets: []string{"abc!"}, want: true},
		"second secret":         {text: "..zyxwvuts..", secrets: []string{"abcdefghijkl", "zyxwvutsrq"}, want: true},
		"empty secret ignored":  {text: "anything", secrets: []string{""}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, got := quotedSecret(tc.text, tc.secrets...)
			if got != tc.want {
				t.Errorf("quotedSecret = %v, want %v", got, tc.want)
			}
			if prod := newSecretSet(tc.secrets...).quotes(tc.text); prod != tc.want {
				t.Errorf("secretSet.quotes = %v, want %v", prod, tc.want)
			}
		})
	}
}
