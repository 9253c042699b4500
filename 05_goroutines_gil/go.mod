module example.com/epg/05_goroutines_gil

go 1.21

require example.com/epg/gopanic v0.0.0

replace example.com/epg/gopanic => ../common/gopanic
