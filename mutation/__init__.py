"""`make mutation`: how many deliberate bugs in the domain rules and the stage logic the fast
tests catch (mutmut over the modules listed in pyproject.toml's `[tool.mutmut]`)."""
