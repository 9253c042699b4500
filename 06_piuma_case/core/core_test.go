package main

import (
	"os"
	"regexp"
	"strconv"
	"testing"

	"example.com/epg/06_piuma_case/engine"
)

// Every engine category has its piuma_api.h number (PiumaRun passes them on
// as they are: the table is complete, a missing entry fails), and the numbers
// are the ones piuma/_files.py's CATEGORIES indexes.
func TestCategories(t *testing.T) {
	header, err := os.ReadFile("piuma_api.h")
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[string]int{}
	for _, m := range regexp.MustCompile(`PIUMA_(\w+) = (\d+)`).FindAllSubmatch(header, -1) {
		numbers[string(m[1])], _ = strconv.Atoi(string(m[2]))
	}
	names := [...]string{engine.OK: "OK", engine.Empty: "EMPTY", engine.NotImage: "NOT_IMAGE",
		engine.TooLarge: "TOO_LARGE", engine.Truncated: "TRUNCATED", engine.Damaged: "DAMAGED",
		engine.Unsupported: "UNSUPPORTED", engine.Unreadable: "UNREADABLE",
		engine.CannotWrite: "CANNOT_WRITE", engine.NoMemory: "NO_MEMORY",
		engine.Cancelled: "CANCELLED", engine.Internal: "INTERNAL"}
	if len(names) != int(engine.Internal)+1 {
		t.Fatalf("%d categories", len(names))
	}
	for c, name := range names {
		if n, ok := numbers[name]; !ok || n != c {
			t.Errorf("engine category %d is piuma_api.h's PIUMA_%s = %d (found: %v)", c, name, n, ok)
		}
	}
}
