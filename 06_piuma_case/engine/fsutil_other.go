//go:build !linux

package engine

import "golang.org/x/sys/unix"

// dirSearch: without O_PATH (macOS), a folder is opened for reading, which
// needs read permission on the folders of the output's path.
const dirSearch = unix.O_RDONLY
