"""The portal's own sentences that are stored in English, said again in the reader's language.

The health sweep stores why a request or service is not healthy (monitoring/rules.py REASONS)
and what it found changed outside the portal (monitoring/provider_drift.py NOTES) as English text:
the API returns it so, and a worker has no reader. The pages read such a text back against those
sentences' templates, several joined by a space as a drift's are, and say each in the reader's
language with the values it carried (a cloud's status, ids, counts: data, as written). Text that
matches no template (a cloud's own message) is shown as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from connections import timeline
from connections.monitoring import provider_drift, rules

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """Each template as a pattern that captures its values, longest first (the most specific)."""
    patterns = []
    for template in sorted((*rules.REASONS, *provider_drift.NOTES), key=len, reverse=True):
        parts, last = [], 0
        for placeholder in PLACEHOLDER.finditer(template):
            parts.append(re.escape(template[last : placeholder.start()]))
            parts.append(f"(?P<{placeholder.group(1)}>.+?)")
            last = placeholder.end()
        parts.append(re.escape(template[last:]))
        patterns.append((re.compile("".join(parts) + r"(?:\s+|$)"), template))
    return tuple(patterns)


def in_readers_words(text: str) -> str:
    """`text` with each of the portal's sentences in it said in the active language."""
    plain = _said(text, sentence=lambda words, values: words % values, data=lambda value: value)
    return " ".join(plain)


def in_readers_words_html(text: str) -> SafeString:
    """The same for a page: escaped, and what is data (a sentence's values, text that is not the
    portal's) marked translate="no", as the pages mark data."""
    as_data = partial(format_html, '<span translate="no">{}</span>')
    parts = _said(text, sentence=_sentence_html, data=as_data)
    return format_html_join(" ", "{}", ((part,) for part in parts))


def _sentence_html(words: str, values: dict) -> SafeString:
    """A translated sentence, escaped, with its (already marked) values in their places."""
    if not values:
        return escape(words)
    braced = words.replace("{", "{{").replace("}", "}}")
    return format_html(PLACEHOLDER.sub(r"{\1}", braced), **values)


def _said(text: str, *, sentence, data) -> list:
    said, rest = [], text
    while rest:
        for pattern, template in _patterns():
            found = pattern.match(rest)
            if found:
                # A value that is itself one of the portal's words ("on", "off") is said too.
                values = {
                    name: data(timeline.detail_label(value))
                    for name, value in found.groupdict().items()
                }
                said.append(sentence(gettext(template), values))
                rest = rest[found.end() :]
                break
        else:
            said.append(data(rest))  # not the portal's sentence: as written
            break
    return said
