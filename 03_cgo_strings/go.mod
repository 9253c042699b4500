module example.com/epg/03_cgo_strings

go 1.21
