module gotrace.local/bench/loadgen

go 1.22
