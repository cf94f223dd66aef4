"""Each stage's logic, deterministic, called by the run loop of `ReturnWorkflow` one at a time.

A stage module has the loop's three entry points for its phases: `act` (do what is due now:
a fact to act on, a clock that has passed; True if it did something), `wakes_at` (the next
clock) and the handlers of the messages the transition table lets the phase accept.
"""
