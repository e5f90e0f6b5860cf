"""The sweep's stored English sentences said again in the reader's language
(connections/stored_sentences.py): with their values, joined ones each, others as written."""

from __future__ import annotations

from django.utils import translation

from connections.stored_sentences import in_readers_words, in_readers_words_html


def test_a_stored_reason_is_said_in_chinese_with_the_values_it_carried():
    with translation.override("zh-hans"):
        said = in_readers_words("1 of 2 backends are unhealthy.")
    assert "1" in said and "2" in said and "backends" not in said


def test_joined_sentences_are_each_said_and_a_value_of_the_portals_words_too():
    text = "Auto-accept was switched on outside the portal. No backend is healthy."
    with translation.override("zh-hans"):
        said = in_readers_words(text)
    assert not any(word in said for word in ("Auto-accept", "switched", "on ", "backend"))
    assert said.count("。") == 2


def test_text_that_is_not_the_portals_is_shown_as_written_and_english_stays_english():
    cloud = "Specified VSwitch is not found."
    with translation.override("zh-hans"):
        assert in_readers_words(cloud) == cloud
        assert in_readers_words(f"No backend is healthy. {cloud}").endswith(cloud)
    with translation.override("en"):
        assert in_readers_words("No backend is healthy.") == "No backend is healthy."


def test_on_a_page_the_values_and_what_is_not_the_portals_are_marked_as_data_and_escaped():
    with translation.override("zh-hans"):
        html = in_readers_words_html("The connection is <b>Rejected</b>. <i>odd</i>")
    assert '<span translate="no">&lt;b&gt;Rejected&lt;/b&gt;</span>' in html
    assert html.endswith('<span translate="no">&lt;i&gt;odd&lt;/i&gt;</span>')
    assert "<b>" not in html and "connection" not in html
