"""(f) KoboldAI-style text jobs: the bodies, and pop+submit cycles measured like (b)."""

from __future__ import annotations

from _infra import AGENT, Flow, Phase, Sizes, dumps
from _load import Load
from _report import fmt_rate, log, rate

TEXT_MODEL = "koboldcpp/bench-7B"
TEXT_GENERATION = (" The lighthouse keeper climbed the spiral stairs at dusk, counting the steps as he always did, "
                   "and lit the lamp before the first ship rounded the point.")


def text_pop_body(name: str) -> bytes:
    return dumps({"name": name, "models": [TEXT_MODEL], "max_length": 512, "max_context_length": 4096,
                  "amount": 1, "threads": 1, "nsfw": False, "bridge_agent": AGENT, "priority_usernames": [],
                  "softprompts": [], "blacklist": [], "require_upfront_kudos": False})


def text_submit_body(job_id: str) -> bytes:
    return dumps({"id": job_id, "generation": TEXT_GENERATION, "state": "ok", "seed": 1234})


TEXT_REQUEST_BODY = dumps({"prompt": "Write the opening of a story about a lighthouse keeper.", "models": [TEXT_MODEL],
                           "params": {"max_length": 80, "max_context_length": 1024, "n": 1, "temperature": 0.7},
                           "nsfw": False})

TEXT = Flow("/api/v2/generate/text/async", "/api/v2/generate/text/pop", "/api/v2/generate/text/submit",
            TEXT_REQUEST_BODY, text_pop_body, text_submit_body, "bench-text-worker-", "text ")


async def text_cycles(load: Load, base: str, sizes: Sizes, round_size: int, pid: int | None,
                      notes: list[str]) -> tuple[float, Phase, Phase]:
    """(f): text pop+submit cycles/s on a shallow queue, filled in rounds as in (b), by `concurrency` text
    workers (distinct names, the one worker key); returns (cycles/s, fill phase, cycle phase)."""
    fills = Phase("(f) text fills", pid)
    cycling = Phase("(f) text", pid)
    done, empty, _ = await load.rounds(base, sizes.shallow_cycles, round_size, sizes.fill_cap_seconds,
                                       sizes.cycle_cap_seconds, fills, cycling, "(f)", TEXT)
    f_rate = rate(done, cycling.wall)
    log(f"(f) {done:,} text cycles in {cycling.wall:.1f} s: {fmt_rate(f_rate)} "
        f"(queue <= {round_size}; {empty} empty pops at round ends)")
    if done < sizes.shallow_cycles:
        notes.append(f"(f) stopped at the {sizes.cycle_cap_seconds:.0f} s cap after {done:,} of "
                     f"{sizes.shallow_cycles:,} text cycles")
    return f_rate, fills, cycling
