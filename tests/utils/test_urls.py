"""Credentials embedded in an endpoint URL never reach a message."""

import pytest

from utils.urls import public_url, redact


@pytest.mark.parametrize("url, shown", [
    ("http://KEY:SECRET@127.0.0.1:4566/", "http://127.0.0.1:4566/"),
    ("https://user@host.example/path?token=abc#frag", "https://host.example/path"),
    ("http://AKIA:wJal/rXU@host:1/", "http://host:1/"),  # a secret key with '/' still hides
    ("notaurl", "notaurl"),
    (None, ""),
])
def test_public_url(url, shown):
    assert public_url(url) == shown


def test_redact_every_url_in_a_message():
    text = 'Could not connect to the endpoint URL: "http://KEY:SECRET@h:1/" (also https://u:p@other/)'
    assert redact(text) == 'Could not connect to the endpoint URL: "http://h:1/" (also https://other/)'
