"""A broker's wallet chooses the importer's power of attorney for the importer's documents
(:meth:`Wallet.powers_for`), and customs' entry rule that the presenter is the importer of
record or its broker accepts the presentation it makes; without the power it does not.
Real signed credentials, a real status list read from a snapshot directory."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from support.entries import CHALLENGE, DOMAIN, IMPORTER, OTHER, rules_hit, sign
from support.parties import PartiesWorld, importer_anchor, power_of_attorney, status_snapshot
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.verifier import Verifier
from tradevc.verifier.entry import RuleSet, verify_entry
from tradevc.wallet import HolderPolicy, KdfParams, Wallet, WalletError
from tradevc.wallet.service import _grants

from test_entry_parties import HOLDER, IMPORT_REGISTER, importer_register

NOW = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)


@pytest.fixture
def world(tmp_path: Path) -> PartiesWorld:
    """The steel entry, as test_entry_parties sets it (the importer's status list in a snapshot)."""
    w = PartiesWorld.steel()
    w.snapshot = status_snapshot(tmp_path / "snapshot", day=w.day)
    return w


def broker_wallet(world: PartiesWorld, home: Path) -> Wallet:
    return Wallet.create(home, "broker passphrase", kdf=KdfParams(n=2**14),
                         verifier=Verifier.offline(policy=HolderPolicy(), mirror=Mirror(snapshots=[str(world.snapshot)])))


def test_the_power_the_wallet_chooses_satisfies_the_entry_rule(world: PartiesWorld, tmp_path: Path) -> None:
    importer_register(world)
    wallet = broker_wallet(world, tmp_path / "broker-wallet")
    ids = [wallet.add(c, now=NOW)[0].id for c in world.credentials[:3]]
    wallet.add(power_of_attorney(day=world.day, agent_did=wallet.holder_did), now=NOW)
    wallet.add(importer_anchor(key=IMPORT_REGISTER), now=NOW)
    chosen = wallet.powers_for(ids, now=NOW)
    assert chosen.ids == ("urn:uuid:poa-1",) and chosen.note is None
    assert [c.id for c in wallet.recheck([*ids, *chosen.ids], now=NOW)] == [*ids, "urn:uuid:poa-1"]

    def entry(presented: list[str]):
        presentation = wallet.present(presented, challenge=CHALLENGE, domain=DOMAIN, now=NOW,
                                      created="2026-03-10T00:00:00Z")
        return verify_entry(world.declaration(), presentation, verifier=world.verifier(), challenge=CHALLENGE,
                            domain=DOMAIN, rules=RuleSet.from_policy(world.policy))

    assert HOLDER not in rules_hit(entry([*ids, *chosen.ids]), line=None)
    assert HOLDER in rules_hit(entry(ids), line=None)  # the broker without the power may not present

    token = wallet.present_jwt([*ids, *chosen.ids], challenge=CHALLENGE, domain=DOMAIN, now=NOW, issued=NOW)
    report = verify_entry(world.declaration(), token, verifier=world.verifier(), challenge=CHALLENGE, domain=DOMAIN,
                          rules=RuleSet.from_policy(world.policy))
    assert HOLDER not in rules_hit(report, line=None)  # the same, as a vp+jwt


def test_powers_for_other_agents_or_no_importer_are_not_chosen(world: PartiesWorld, tmp_path: Path) -> None:
    wallet = broker_wallet(world, tmp_path / "broker-wallet")
    ids = [wallet.add(c, now=NOW)[0].id for c in world.credentials[:3]]
    assert wallet.powers_for(ids, now=NOW).added == ()  # holds no power at all: nothing to say
    wallet.add(power_of_attorney(day=world.day), now=NOW)  # names another broker
    assert wallet.powers_of_attorney() == [] and wallet.powers_for(ids, now=NOW).note is None
    with pytest.raises(WalletError, match="as agent, not this wallet's holder"):
        wallet.power_of_attorney("urn:uuid:poa-1")
    with pytest.raises(WalletError, match="not a power of attorney"):
        wallet.power_of_attorney(ids[0])
    mine = power_of_attorney(day=world.day, principal=OTHER, agent_did=wallet.holder_did, id="urn:uuid:poa-2",
                             index=None)
    mine["credentialSubject"]["principal"]["name"] = "Harbor Steel Trading Co."
    del mine["proof"]
    wallet.add(sign(mine, OTHER), now=NOW)
    chosen = wallet.powers_for(ids, now=NOW)
    assert chosen.added == () and "no power of attorney held from the importer they name" in (chosen.note or "")
    assert wallet.powers_for([ids[0], "urn:uuid:poa-2"], now=NOW).added == ()  # a power is already chosen



def test_a_power_from_another_party_does_not_fit_an_importer_named_by_did(world: PartiesWorld,
                                                                          tmp_path: Path) -> None:
    """An importer named by DID grants only the powers it issued: not one another party issued
    whose principal bears the importer's name (a broker's other client of that name) or even
    the importer's DID (customs requires the importer to be the power's issuer)."""
    wallet = broker_wallet(world, tmp_path / "broker-wallet")
    name = "Gulf Coast Pipe & Supply LLC"
    own, _ = wallet.add(power_of_attorney(day=world.day, agent_did=wallet.holder_did), now=NOW)
    others = []
    for number, principal_id in enumerate((OTHER.did, IMPORTER.did), start=2):
        power = power_of_attorney(day=world.day, principal=OTHER, agent_did=wallet.holder_did,
                                  id=f"urn:uuid:poa-{number}", index=None)
        power["credentialSubject"]["principal"].update(name=f"  {name.upper()} ", id=principal_id)
        del power["proof"]
        others.append(wallet.add(sign(power, OTHER), now=NOW)[0])
    assert _grants(own, [(IMPORTER.did, name)])
    assert not any(_grants(p, [(IMPORTER.did, name)]) for p in others)
    assert all(_grants(p, [(None, name)]) for p in others)  # named only by name: the name is all there is


def test_powers_from_two_issuers_fitting_a_name_alone_are_not_chosen(world: PartiesWorld, tmp_path: Path) -> None:
    """The documents name the importer by name only: with powers of that name from two issuers,
    the wallet cannot tell which is the importer's and chooses none, saying so."""
    wallet = broker_wallet(world, tmp_path / "broker-wallet")
    ids = [wallet.add(c, now=NOW)[0].id for c in world.credentials[:3]]
    wallet.add(power_of_attorney(day=world.day, agent_did=wallet.holder_did), now=NOW)
    assert wallet.powers_for(ids, now=NOW).ids == ("urn:uuid:poa-1",)
    twin = power_of_attorney(day=world.day, principal=OTHER, agent_did=wallet.holder_did, id="urn:uuid:poa-2",
                             index=None)
    twin["credentialSubject"]["principal"]["name"] = "Gulf Coast Pipe & Supply LLC"
    del twin["proof"]
    wallet.add(sign(twin, OTHER), now=NOW)
    chosen = wallet.powers_for(ids, now=NOW)
    assert chosen.added == () and "several issuers" in (chosen.note or "") and OTHER.did in (chosen.note or "")
