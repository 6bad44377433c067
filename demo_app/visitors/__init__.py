"""Visitors: who a request is (keys), where a new one comes from (addresses), and admission."""

from demo_app.visitors._addresses import (
    UNKNOWN,
    GrantGate,
    HasHeaders,
    client_address,
    forwarded_for,
    visitor_address,
)
from demo_app.visitors._keys import (
    BROWSER_PREFIX,
    HF_PREFIX,
    ForgedKey,
    Identity,
    KeyRing,
    identify_visitor,
    load_or_create_secret,
)
from demo_app.visitors._service import (
    SECRET_FILE,
    Account,
    Visitor,
    Visitors,
    key_ring,
    visitors_from,
)

__all__ = [
    "BROWSER_PREFIX",
    "HF_PREFIX",
    "SECRET_FILE",
    "UNKNOWN",
    "Account",
    "ForgedKey",
    "GrantGate",
    "HasHeaders",
    "Identity",
    "KeyRing",
    "Visitor",
    "Visitors",
    "client_address",
    "forwarded_for",
    "identify_visitor",
    "key_ring",
    "load_or_create_secret",
    "visitor_address",
    "visitors_from",
]
