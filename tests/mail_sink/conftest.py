"""The notice tests' mail fixtures: a sink on a free port, the composer, two return stories."""

from tests.activities.notices.conftest import (
    composer,
    english_return_fixture,
    french_return_fixture,
    sink,
)

__all__ = ["composer", "english_return_fixture", "french_return_fixture", "sink"]
