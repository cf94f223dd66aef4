"""The domain of a return under the right of withdrawal: pure models and rules, no I/O.

Everything here is safe to import inside the Temporal workflow sandbox (it is passed through),
so nothing in this package may read the clock, the environment or the network.
"""
