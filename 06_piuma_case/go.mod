module example.com/epg/06_piuma_case

go 1.21

require example.com/epg/gopanic v0.0.0

replace example.com/epg/gopanic => ../common/gopanic
