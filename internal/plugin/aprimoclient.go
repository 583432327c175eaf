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

package plugin

import (
	"errors"
	"os"
	"os/exec"
	"runtime"

	"github.com/spf13/pflag"

	"github.com/aprimo-credential-operator/aprimo-credential-operator/internal/aprimo"
)

// aprimoFlags say how the plugin reaches Aprimo. As in the operator, a client
// secret, code or token is only sent over https to an allowed host.
type aprimoFlags struct {
	allowedHosts string
	caFile       string
}

func (a *aprimoFlags) addFlags(fs *pflag.FlagSet) {
	// Sign-in and the DAM are both under *.aprimo.com.
	fs.StringVar(&a.allowedHosts, "allowed-token-hosts", "*.aprimo.com",
		"Hosts the plugin may send Aprimo credentials and tokens to, comma-separated (e.g. *.aprimo.com,aprimo.internal.example.com).")
	fs.StringVar(&a.caFile, "ca-file", "",
		"PEM file of CAs to trust for Aprimo besides the system's (an internal CA or a TLS-inspecting proxy).")
}

// aprimoClient returns an Aprimo client honouring the flags.
func (a *aprimoFlags) aprimoClient() (*aprimo.Client, error) {
	hosts, err := aprimo.ParseHostAllowlist(a.allowedHosts)
	if err != nil {
		return nil, err
	}
	o := aprimo.Options{Hosts: hosts}
	if a.caFile != "" {
		if o.RootCAs, err = aprimo.SystemRootsWith(a.caFile); err != nil {
			return nil, err
		}
	}
	return aprimo.NewClient(o), nil
}

var errNoBrowser = errors.New("no browser found")

// openBrowser opens url in the desktop's browser: always on macOS and Windows,
// on other systems only in a graphical session with xdg-open. It does not wait
// for the browser.
func openBrowser(url string) error {
	var name string
	var args []string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errNoBrowser
		}
		name = "xdg-open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return errNoBrowser
	}
	cmd := exec.Command(path, append(args, url)...)
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }() // reap it whenever it exits
	return nil
}
