package main

import (
	"testing"

	"example.com/epg/06_piuma_case/engine"
)

// Every engine category has its piuma_api.h number (the table is complete:
// a missing entry would read as PIUMA_OK), and the numbers are the ones
// piuma/_files.py's CATEGORIES indexes.
func TestCategories(t *testing.T) {
	if len(categories) != int(engine.Internal)+1 {
		t.Fatalf("%d categories", len(categories))
	}
	for c := engine.OK; c <= engine.Internal; c++ {
		if int(categories[c]) != int(c) {
			t.Errorf("engine category %d is piuma_api.h's %d", c, categories[c])
		}
	}
}
