"""fastnn's asv benchmarks: each fastnn benchmark has a torch twin in the same class,
so one run shows the ratio. Run from asv_bench/: ``asv run --python=same --quick``."""
