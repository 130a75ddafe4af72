"""The SOP package's one error type."""


class SopError(Exception):
    """A one-line message a person can act on."""
