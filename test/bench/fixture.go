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

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/api/v1alpha1"
	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo/aprimotest"
)

// shardLabel splits the credentials between the shards of -shards=2.
const shardLabel = "bench.aprimo.credentials.dev/shard"

// credSpec is one credential of the run and the Aprimo client behind it.
type credSpec struct {
	key      client.ObjectKey
	flow     string
	shard    string
	clientID string
	secret   string
	username string
	userTok  string
}

func (c credSpec) targetName() string { return c.key.Name + "-token" }

// fixture is every credential of the run, by name.
type fixture struct {
	creds   []credSpec
	byKey   map[client.ObjectKey]*credSpec
	clients map[string]int // credentials per client ID
}

// newFixture lays out n credentials and registers their clients and users on
// the fake.
func newFixture(cfg config, fake *aprimotest.Server) (*fixture, error) {
	weights, err := parseFlows(cfg.Flows)
	if err != nil {
		return nil, err
	}
	flows := assignFlows(cfg.N, weights)
	f := &fixture{byKey: map[client.ObjectKey]*credSpec{}, clients: map[string]int{}}
	sharedSecrets := map[string]string{}
	sharedSeen := 0
	for i, flow := range flows {
		c := credSpec{
			key:   client.ObjectKey{Namespace: fmt.Sprintf("bench-%d", i%cfg.Namespaces), Name: fmt.Sprintf("cred-%05d", i)},
			flow:  flow,
			shard: fmt.Sprintf("s%d", i%2),
		}
		switch flow {
		case flowOwn:
			c.clientID, c.secret = fmt.Sprintf("cc-%05d", i), randomHex(16)
		case flowShared:
			c.clientID = fmt.Sprintf("shared-%03d", sharedSeen/cfg.SharedGroup)
			sharedSeen++
			if _, ok := sharedSecrets[c.clientID]; !ok {
				sharedSecrets[c.clientID] = randomHex(16)
			}
			c.secret = sharedSecrets[c.clientID]
		case flowPassword:
			c.clientID, c.secret = fmt.Sprintf("pw-%05d", i), randomHex(16)
			c.username, c.userTok = fmt.Sprintf("user-%05d", i), randomHex(16)
			fake.AddUser(c.username, c.userTok)
		}
		if f.clients[c.clientID] == 0 {
			fake.AddRegistration(aprimotest.Registration{ClientID: c.clientID, ClientSecret: c.secret, TokenLifetime: cfg.TokenLifetime})
		}
		f.clients[c.clientID]++
		f.creds = append(f.creds, c)
	}
	for i := range f.creds {
		f.byKey[f.creds[i].key] = &f.creds[i]
	}
	return f, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createInputs creates the namespaces and each credential's input Secrets.
func (f *fixture) createInputs(ctx context.Context, c client.Client, cfg config) error {
	for i := range cfg.Namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%d", i)}}
		if err := c.Create(ctx, ns); err != nil {
			return err
		}
	}
	return forEach(ctx, len(f.creds), 32, func(i int) error {
		cs := f.creds[i]
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: cs.key.Namespace, Name: cs.key.Name + "-client"},
			StringData: map[string]string{"client-id": cs.clientID, "client-secret": cs.secret},
		}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
		if cs.flow != flowPassword {
			return nil
		}
		u := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: cs.key.Namespace, Name: cs.key.Name + "-user"},
			StringData: map[string]string{"username": cs.username, "user-token": cs.userTok},
		}
		return c.Create(ctx, u)
	})
}

// credential is the AprimoCredential of cs against the fake at url.
func (cs credSpec) credential(url string) *v1alpha1.AprimoCredential {
	cred := &v1alpha1.AprimoCredential{
		ObjectMeta: metav1.ObjectMeta{Namespace: cs.key.Namespace, Name: cs.key.Name, Labels: map[string]string{shardLabel: cs.shard}},
		Spec: v1alpha1.AprimoCredentialSpec{
			URL:             url,
			Flow:            v1alpha1.FlowClientCredentials,
			Scopes:          []string{"api"},
			ClientSecretRef: v1alpha1.ClientSecretReference{Name: cs.key.Name + "-client"},
			Target:          v1alpha1.TargetSecret{Name: cs.targetName()},
		},
	}
	if cs.flow == flowPassword {
		cred.Spec.Flow = v1alpha1.FlowResourceOwnerPassword
		cred.Spec.Scopes = []string{"api", "offline_access"}
		cred.Spec.UserTokenRef = &v1alpha1.UserTokenReference{Name: cs.key.Name + "-user"}
	}
	return cred
}

// createCredentials creates every credential at once (32 at a time) and
// records when each create was sent.
func (f *fixture) createCredentials(ctx context.Context, c client.Client, url string, w *watcher) error {
	return forEach(ctx, len(f.creds), 32, func(i int) error {
		w.created(f.creds[i].key, time.Now())
		return c.Create(ctx, f.creds[i].credential(url))
	})
}

// createUnrelated fills the cluster with n Secrets of size bytes each that
// have nothing to do with the operator, in namespaces of their own.
func createUnrelated(ctx context.Context, c client.Client, n, size int, progress func(string, ...any)) error {
	const namespaces = 10
	for i := range namespaces {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%d", i)}}); err != nil {
			return err
		}
	}
	payload := make([]byte, size)
	_, _ = rand.Read(payload)
	var done atomic.Int64
	start := time.Now()
	return forEach(ctx, n, 32, func(i int) error {
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: fmt.Sprintf("unrelated-%d", i%namespaces), Name: fmt.Sprintf("unrelated-%06d", i)},
			Data:       map[string][]byte{"payload": payload},
		}
		if err := c.Create(ctx, s); err != nil {
			return err
		}
		if d := done.Add(1); d%5000 == 0 {
			progress("created %d/%d unrelated Secrets (%s)", d, n, time.Since(start).Round(time.Second))
		}
		return nil
	})
}

// forEach runs fn(0..n-1) on workers goroutines and returns the first error.
func forEach(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}
