//go:build !linux

package browsertest

import (
	"errors"
	"os/exec"
)

func setNewNetNS(*exec.Cmd) {}

func netnsSupported() error { return errors.New("network namespaces are Linux only") }

func loopbackUp() error { return errors.New("network namespaces are Linux only") }
