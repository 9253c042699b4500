module example.com/epg/05_goroutines_gil

go 1.21
