module afftrack.example/s2s

go 1.19
