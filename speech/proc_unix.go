//go:build unix

package speech

import (
	"os/exec"
	"syscall"
)

// ownGroup puts the engine in a process group of its own and makes
// cancellation kill the whole group: a wrapper script's children (or a
// helper the engine starts) must not outlive the request holding its pipes.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
