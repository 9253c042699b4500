//go:build !epgpanic

package gopanic

// Hook is a no-op in normal builds (see hook_on.go for the test build).
func Hook(name string) {}
