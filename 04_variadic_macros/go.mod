module example.com/epg/04_variadic_macros

go 1.21
