"""Whatever the customer's name, the label prints something a postal clerk can read."""

from __future__ import annotations

from carrier_sandbox.fonts import DRAWABLE, printable

LATIN_1 = range(256)


def test_letters_the_typeface_lacks_lose_only_their_accent() -> None:
    assert printable("Wiśniewska, Łódź", drawable=LATIN_1) == "Wisniewska, Lódz"


def test_text_the_typeface_draws_is_printed_as_written() -> None:
    assert printable("Zoé Lefèvre, Straße 5", drawable=LATIN_1) == "Zoé Lefèvre, Straße 5"


def test_a_letter_with_no_latin_form_becomes_a_question_mark() -> None:
    assert printable("漢 Li", drawable=LATIN_1) == "? Li"


def test_the_label_typeface_draws_the_names_of_france_and_its_neighbours() -> None:
    assert printable("Zoé Łasica-Lefèvre, Œuvre, Müller, Ñúñez") == (
        "Zoé Łasica-Lefèvre, Œuvre, Müller, Ñúñez"
    )
    assert ord("é") in DRAWABLE
