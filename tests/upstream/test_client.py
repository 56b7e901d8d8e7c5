"""The client sorts the upstream's answers the way the public AI Horde words them (5.1.5, its
`horde/exceptions.py`): a refused prompt is the member's, a timeout is the sender's, and the remaining
seconds come from the message. Each member's Proxied-For value is an address of its own."""

from __future__ import annotations

import ipaddress

from horde_core.safety.prompt_filter import PromptFilter
from horde_core.service.upstream_guard import fit_for_upstream, proxied_for_value
from horde_core.upstream.client import Refused, TimedOut, UpstreamError, _error, remaining_seconds

AI_HORDE_TIMEOUT = ("Due to abuse prevention, your IP address has been put into timeout for 537 more seconds. "
                    "Please try again later, or contact us on discord if you think this was an error.")
AI_HORDE_LONG_TIMEOUT = ("Due to abuse prevention, your IP address has been put into timeout. Please try again "
                         "later, or contact us on discord if you think this was an error.")


def test_timeouts_and_refusals_are_told_apart_by_rc() -> None:
    timeout = _error(403, {"message": AI_HORDE_TIMEOUT, "rc": "TimeoutIP"})
    assert isinstance(timeout, TimedOut) and timeout.seconds == 537 and timeout.backoff
    assert isinstance(_error(400, {"message": "This prompt appears to violate our terms of service and will be "
                                              "reported.", "rc": "CorruptPrompt"}), Refused)
    unstated = _error(403, {"message": AI_HORDE_LONG_TIMEOUT, "rc": "TimeoutIP"})
    assert isinstance(unstated, TimedOut) and unstated.seconds is None
    service = _error(400, {"message": "Only service accounts can provide a proxied_account value.",
                           "rc": "OnlyServiceAccountProxy"})
    assert type(service) is UpstreamError and service.backoff and "service account" in service.message
    assert type(_error(400, {"message": "bad", "rc": "UnsupportedModel"})) is UpstreamError


def test_remaining_seconds_as_each_horde_says_it() -> None:
    assert remaining_seconds(AI_HORDE_TIMEOUT) == 537
    assert remaining_seconds("Requests from your address are timed out for 3 more minute(s).") == 180
    assert remaining_seconds(AI_HORDE_LONG_TIMEOUT) is None
    assert remaining_seconds("in timeout", {"Retry-After": "42"}) == 42
    assert remaining_seconds("timeout for 0 more seconds") is None


def test_each_member_has_a_stable_address_of_their_own() -> None:
    secret = b"s" * 32
    first = proxied_for_value(secret, "member:discord:1:2")
    assert first == proxied_for_value(secret, "member:discord:1:2")
    others = {proxied_for_value(secret, f"member:discord:1:{n}") for n in range(3, 200)}
    address = ipaddress.IPv6Address(first)
    assert address in ipaddress.IPv6Network("fd00::/8")  # unique-local: never anyone's real address
    # One /64 each: the public horde groups IPv6 addresses by /64 when it records problem jobs.
    assert ipaddress.IPv6Network(f"{first}/64", strict=False) not in {
        ipaddress.IPv6Network(f"{o}/64", strict=False) for o in others}
    assert proxied_for_value(b"t" * 32, "member:discord:1:2") != first  # meaningless without the secret


def test_only_what_passes_the_strictest_filter_may_leave() -> None:
    pf = PromptFilter()
    assert fit_for_upstream(pf.check("a lighthouse at dusk"), nsfw=False)
    assert fit_for_upstream(pf.check("nude woman on a beach"), nsfw=True)  # adult NSFW, where allowed
    assert fit_for_upstream(pf.check("a child playing in a park"), nsfw=False)
    assert not fit_for_upstream(pf.check("a child playing in a park"), nsfw=True)
    assert not fit_for_upstream(pf.check("schoolgirl in bikini"), nsfw=False)  # passes our usual filter
    assert not fit_for_upstream(pf.check("nude child"), nsfw=False)
