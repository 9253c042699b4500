package engine

import "golang.org/x/sys/unix"

// dirSearch opens a folder only to go through it (openat relative to it,
// fstat): O_PATH needs no read permission on it, as a path lookup does not
// (a home folder of mode 0711 on the way to the output must not fail it).
const dirSearch = unix.O_PATH
