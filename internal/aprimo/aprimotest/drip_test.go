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
	"strings"
	"testing"
	"time"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

func TestDripSendsTheBodySlowerThanTheClientWaits(t *testing.T) {
	f := newFixture(t, aprimotest.Options{})
	client := aprimo.NewClient(aprimo.Options{
		Hosts: aprimo.HostAllowlist{"127.0.0.1"}, Transport: f.srv.Client().Transport, Timeout: 300 * time.Millisecond,
	})
	f.callAPI(t, "") // connect first: the short timeout is for the body, not a TLS handshake
	body := `{"access_token":"at-drip","token_type":"Bearer","expires_in":3600}`
	f.srv.FailNext(1, aprimotest.Fault{Status: 200, ContentType: "application/json", Body: body, Drip: 50 * time.Millisecond})

	start := time.Now()
	_, err := client.ClientCredentials(t.Context(), f.srv.URL(), clientID, secret, nil)
	e := wantError(t, err, aprimo.ClassUnavailable, "")
	if e.StatusCode != 200 || !strings.Contains(e.Error(), "did not arrive within") {
		t.Errorf("got %q (HTTP %d), want the body cut off by the timeout", e.Error(), e.StatusCode)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("gave up after %s, want about 300ms", elapsed)
	}
}
