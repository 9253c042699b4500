module example.com/epg/gopanic

go 1.21
