module example.com/epg/06_piuma_case

go 1.21

require golang.org/x/image v0.24.0
