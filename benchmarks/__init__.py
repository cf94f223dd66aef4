"""Scripts that measure the product on the embedded stack; their figures go in the README."""
