"""Scripts that measure the product; each writes its figures, with when, how and where they were
measured, as JSON, which `make bench-plots` draws in docs/benchmarks/."""
