"""`{{ text|readers_words }}`: a sentence the portal stored in English, in the reader's language
(connections/stored_sentences.py)."""

from __future__ import annotations

from django import template

from connections.stored_sentences import in_readers_words_html

register = template.Library()


@register.filter
def readers_words(text: str) -> str:
    return in_readers_words_html(text) if text else text
