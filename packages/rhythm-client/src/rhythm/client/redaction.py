"""The one place that keeps database passwords out of messages and log lines.

`redact(text, url)` is applied to every error message and log line that could carry a database
URL or a driver's message about one: it masks the password of any URL in the text
(`postgresql://user:***@host`), any `password=...` setting (keyword/value form or URL query), and,
when the URL being used is given, that URL's password wherever else it appears (libpq quotes
pieces of a URL it cannot parse, such as "invalid percent-encoded token: "S3cret%PW"")."""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

# scheme://user:password@  (the password may hold anything but '@' and whitespace; a URL whose
# password has an unencoded '@' is masked up to the last '@' before the host)
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/?#@\s'\"]*:)(?P<pw>[^\s'\"]*)@", re.I
)
# password=value in a query string or a keyword/value conninfo (quoted or not)
_KEY_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&'\"]+)", re.I)


def passwords_in(url: str) -> set[str]:
    """The password(s) a URL or conninfo string carries, raw and percent-decoded."""
    found: set[str] = set()
    for pattern in (_URL_PASSWORD, _KEY_PASSWORD):
        for match in pattern.finditer(url):
            pw = match["pw"]
            if len(pw) >= 2 and pw[0] == pw[-1] == "'":
                pw = pw[1:-1]
            found.update({pw, unquote(pw)})
    return {pw for pw in found if pw and pw != MASK}


def redact(text: str, url: str | None = None) -> str:
    """`text` with every password masked (see the module docstring)."""
    secrets = passwords_in(text) | (passwords_in(url) if url else set())
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", text)
    text = _KEY_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", text)
    # Longest first, so a secret that contains another is masked whole.
    # (A secret under 3 characters is not searched for: masking every "a" would garble the text.)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


def redact_url(url: str) -> str:
    """A database URL as it may be shown: everything but the password."""
    return redact(url, url)
