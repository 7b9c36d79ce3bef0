"""The Vietnamese catalogue is complete: every message translated, none fuzzy."""

import re
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "locale" / "vi" / "LC_MESSAGES" / "django.po"


def entries() -> list[str]:
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    return [b for b in blocks if "\nmsgid " in f"\n{b}" and not b.startswith("#~")]


def test_every_message_is_translated():
    untranslated = []
    for block in entries()[1:]:  # the first block is the header
        msgstr = block.split("\nmsgstr", 1)[1]
        text = "".join(re.findall(r'"(.*)"', msgstr))
        if not text:
            untranslated.append(block.splitlines()[-2:])
    assert untranslated == []


def test_no_translation_is_fuzzy():
    assert not [b for b in entries() if "#, fuzzy" in b or ", fuzzy" in b]


def test_the_catalogue_is_large_enough_to_be_the_whole_ui():
    assert len(entries()) > 250
