module example.com/epg/06_piuma_case

go 1.21

require (
	example.com/epg/gopanic v0.0.0
	golang.org/x/image v0.24.0
	golang.org/x/sys v0.30.0
)

replace example.com/epg/gopanic => ../common/gopanic
