"""The service's issuers (tradevc.service.desks.Issuers): the status lists they serve are
signed again once a day when asked for, so a server that runs for weeks without a status
change never serves an expired list (each is valid for 30 days)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from tradevc.service.config import IssuerConfig
from tradevc.service.desks import REPUBLISH_AFTER, Issuers

PASS = b"mill passphrase 2026"


def test_lists_are_signed_again_once_a_day(tmp_path):
    with Issuer.init(tmp_path / "mill", PASS, name="Mill", status_base_url="https://mill.example/status/") as mill:
        mill.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                   valid_until=(datetime.now(timezone.utc) + timedelta(days=180)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    moment = [datetime(2026, 12, 1, tzinfo=timezone.utc)]
    issuers = Issuers((IssuerConfig("mill", tmp_path / "mill", PASS),), clock=lambda: moment[0])
    try:
        def valid_from() -> str:
            return str(json.loads(issuers.site["status/revocation/1"].data)["validFrom"])

        assert valid_from() == "2026-12-01T00:00:00Z" and not issuers.stale()
        moment[0] += REPUBLISH_AFTER - timedelta(seconds=1)
        assert not issuers.stale()
        issuers.refresh()
        assert valid_from() == "2026-12-01T00:00:00Z"
        moment[0] += timedelta(seconds=1)
        assert issuers.stale()
        issuers.refresh()
        assert valid_from() == "2026-12-02T00:00:00Z" and not issuers.stale()
    finally:
        issuers.close()
