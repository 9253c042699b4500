module example.com/epg/04_variadic_macros

go 1.21

require example.com/epg/gopanic v0.0.0

replace example.com/epg/gopanic => ../common/gopanic
