module example.com/epg/02_cgo_sum

go 1.21
