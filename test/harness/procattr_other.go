//go:build !unix

package harness

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
