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
	"context"
	"fmt"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// The fake serves the real client: trust its CA through Transport and allow its host.
func Example() {
	srv, err := aprimotest.NewServer(aprimotest.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	srv.AddRegistration(aprimotest.Registration{ClientID: "demo", ClientSecret: "demo-secret-123456"})

	client := aprimo.NewClient(aprimo.Options{
		Hosts:     aprimo.HostAllowlist{"127.0.0.1"},
		Transport: srv.Client().Transport,
	})
	tok, err := client.ClientCredentials(context.Background(), srv.URL(), "demo", "demo-secret-123456", []string{"api"})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.TokenType, tok.Lifetime(), srv.ValidAccessToken(tok.AccessToken))

	_, err = client.Refresh(context.Background(), srv.URL(), "demo", "demo-secret-123456", "not-a-refresh-token")
	fmt.Println(aprimo.ClassOf(err))
	// Output:
	// Bearer 1h0m0s true
	// InvalidGrant
}
