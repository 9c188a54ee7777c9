"""Every word the page shows exists in Russian and in English: the keys of ``index.html`` (``data-i18n``) and
``app.js`` (``t("...")``) against both dictionaries of ``i18n.js``; and every error code the API defines has
its sentence."""

from __future__ import annotations

import re

import plastinka_api.app  # noqa: F401 - every domain's ApiError subclasses, loaded
from plastinka_api import errors
from plastinka_api.web.service import STATIC_DIR


def _dictionary(language: str) -> set[str]:
    source = (STATIC_DIR / "i18n.js").read_text(encoding="utf-8")
    block = re.search(rf"\n  {language}: \{{\n(.*?)\n  \}},", source, re.S)
    assert block is not None, language
    return set(re.findall(r"^    (\w+):", block.group(1), re.M))


def test_both_languages_have_the_same_words() -> None:
    ru, en = _dictionary("ru"), _dictionary("en")
    assert len(ru) > 50
    assert ru == en, ru ^ en


def test_every_key_the_page_uses_is_translated() -> None:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n="(\w+)"', html)) | set(re.findall(r'\bt\("(\w+)"', script))
    assert used - _dictionary("ru") == set()


def test_every_api_error_code_has_a_russian_sentence() -> None:
    """A new ``ApiError`` code fails here until ``i18n.js`` says it in both languages."""
    codes = {cls.code for cls in _subclasses(errors.ApiError)} | {"validation_error", "internal_error"}
    assert {f"err_{code}" for code in codes} - _dictionary("ru") == set()


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
