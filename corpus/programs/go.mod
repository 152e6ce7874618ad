module gotrace.corpus/programs

go 1.21
