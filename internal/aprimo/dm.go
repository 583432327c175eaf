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

import "context"

// DMTokenPath is where Aprimo DM (Distributed Marketing) issues tokens, under
// https://auth.aprimodm.com.
const DMTokenPath = "/api/v1.0/token"

// DistributedMarketing gets an Aprimo DM token with the resource owner password flow,
// the only one DM supports. DM uses no client secret. The form field names are
// capitalised as Aprimo DM documents them: UserName and Password.
func (c *Client) DistributedMarketing(ctx context.Context, base, clientID, username, password string) (*Token, error) {
	return c.request(ctx, base, tokenRequest{
		path: DMTokenPath,
		body: formBody(
			"UserName", username,
			"Password", password,
			"grant_type", "password",
			"client_id", clientID,
		),
		secrets: newSecretSet(password),
	})
}
