"""Every side effect of a return, grouped by the outside system it talks to.

Each group is a small protocol with its adapters, and a class of Temporal activities holding
an injected adapter (the workflow only ever sees the activities).
"""
