module example.com/epg/03_cgo_strings

go 1.21

require example.com/epg/gopanic v0.0.0

replace example.com/epg/gopanic => ../common/gopanic
