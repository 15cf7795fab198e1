"""Take credentials out of URLs and DSNs before they are recorded (git remotes, allow-listed variables)."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("provlineage.environment")

_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})
#: ``user:password@`` at the start of a scheme-less DSN such as ``app:pw@db:5432/prod``.
_BARE_USERINFO = re.compile(r"^[^\s:/@]+:[^\s@/]*@(?=[^\s@]+$)")


def strip_url_credentials(url: str) -> str:
    """A URL without the secrets it may carry: userinfo, query string and fragment.

    For ``http(s)`` and other schemes the whole userinfo goes, since hosts accept a token as the user
    name (``https://<token>@github.com/...``).  For ``ssh`` URLs the user name is kept and only a
    password dropped.  The query and fragment go too: tokens travel there (``?access_token=``, a SAS
    ``sig=``), and a repository or service is named by scheme, host and path alone.  A scheme-less DSN
    (``app:pw@db:5432/prod``) loses its ``user:password@``; scp-like ``git@host:org/repo`` and local paths
    hold no secret and stay as they are.
    """
    if "://" not in url:
        return _BARE_USERINFO.sub("", url)
    try:
        parts = urlsplit(url)
    except ValueError:
        log.debug("Unparseable URL left out")
        return ""
    userinfo, at, host = parts.netloc.rpartition("@")
    netloc = parts.netloc
    if at:
        if parts.scheme.lower() in _SSH_SCHEMES:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{host}" if user else host
        else:
            netloc = host
    return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))
