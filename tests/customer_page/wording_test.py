"""The pages say everything in both languages, and say where every stage stands."""

from __future__ import annotations

from customer_page.wording import LANGUAGES, STAGE_NOW, WORDS, language
from domain.returns import ReturnStage


def test_every_sentence_is_written_in_english_and_in_french() -> None:
    assert set(WORDS["en"]) == set(WORDS["fr"])
    different = [key for key in WORDS["en"] if WORDS["en"][key] == WORDS["fr"][key]]
    assert different == []


def test_every_stage_is_told_in_both_languages() -> None:
    for lang in LANGUAGES:
        assert set(STAGE_NOW[lang]) == set(ReturnStage)


def test_the_language_asked_for_wins_then_the_customers_locale_then_english() -> None:
    assert language("fr", "en-GB") == "fr"
    assert language(None, "fr-BE") == "fr"
    assert language("de", "de-DE") == "en"
    assert language(None, None) == "en"
