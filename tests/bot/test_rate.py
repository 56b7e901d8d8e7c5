"""/rate end to end: the real bot and core; shared images finished by a fake worker, rated through the
real CommandTree and DynamicItems (scores 1-10, artifacts 0-5), after a restart too."""

from __future__ import annotations

import base64
import copy
import io

from PIL import Image
from sqlalchemy import select

from horde_core.config import AppConfig
from horde_core.models import Rating
from horde_core.service import HordeService, TooMany
from tests.bot.conftest import build_bot
from tests.bot.harness import DiscordHarness, InteractionRecord, SentMessage
from tests.helpers import image_request, pop_spec, submit_spec

MODEL = "stable_diffusion"


def webp(shade: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (shade, 90, 160)).save(buf, format="WEBP")
    return base64.b64encode(buf.getvalue()).decode()


async def shared_images(service: HordeService, n: int, *, nsfw: bool = False) -> list[str]:
    """n finished images of one shared request, made by a (fake) worker: the rating pool."""
    owner, _ = await service.create_user("sharer", kudos=1000)
    gpu, _ = await service.create_user("gpu-owner")
    await service.request_images(owner, image_request("a shared lighthouse", shared=True, nsfw=nsfw,
                                                      params={"n": n}))
    popped = await service.pop_image(gpu, pop_spec(f"Fake GPU {gpu.id}", amount=n, nsfw=True))
    for index, job_id in enumerate(popped.ids):
        await service.submit_image(gpu, submit_spec(job_id, generation=webp(index * 20)))
    return list(popped.ids)


async def ratings(service: HordeService) -> dict[str, tuple[int | None, int | None, str]]:
    """image id -> (rating, artifacts, client agent), as the core stored them."""
    r = Rating.__table__.c
    async with service.db.read() as conn:
        rows = await conn.execute(select(r.image_id, r.rating, r.artifacts, r.client_agent))
        return {row.image_id: (row.rating, row.artifacts, row.client_agent) for row in rows}


async def kudos(service: HordeService, h: DiscordHarness, index: int = 1) -> int:
    return (await service.user_for_identity(f"discord:{h.member(index).id}", "x")).kudos


def shown(message: SentMessage | InteractionRecord) -> str:
    """The image a /rate message asks about (read from its score buttons)."""
    ids = {c.split(":")[2] for c in message.custom_ids if c.startswith("rate:s:")}
    assert len(ids) == 1, message.custom_ids
    return ids.pop()


def score_id(message: SentMessage, score: int) -> str:
    return next(c for c in message.custom_ids if c.startswith("rate:s:") and c.split(":")[3] == str(score))


async def test_rate_shows_one_image_with_ten_scores_and_an_artifacts_choice(
        h: DiscordHarness, service: HordeService) -> None:
    pool = await shared_images(service, 2)
    rec = await h.slash("rate", user=h.member(1))
    assert rec.type == 5 and rec.ephemeral  # deferred at once, privately
    message = rec.original
    assert message.ephemeral and "How good is this image?" in message.content and MODEL in message.content
    assert len(message.files) == 1 and Image.open(io.BytesIO(message.files[0].data)).size == (32, 32)
    image = shown(message)
    assert image in pool
    buttons = [c for c in message.custom_ids if c.startswith("rate:s:")]
    assert buttons == [f"rate:s:{image}:{score}:x" for score in range(1, 11)]
    assert [message.component(c)["label"] for c in buttons] == [str(s) for s in range(1, 11)]
    rows = [[c.get("custom_id") for c in row["components"]] for row in message.components]
    assert rows[:2] == [buttons[:5], buttons[5:]]
    select_menu = message.component(f"rate:a:{image}")
    assert [o["value"] for o in select_menu["options"]] == ["0", "1", "2", "3", "4", "5", "x"]
    assert select_menu["options"][0]["label"].startswith("0") and select_menu["options"][5]["label"].endswith("severe")
    assert all(len(c) <= 100 for c in message.custom_ids)
    assert await ratings(service) == {}  # showing is not rating


async def test_every_score_button_records_its_score_pays_and_moves_on(h: DiscordHarness, service: HordeService,
                                                                      config: AppConfig) -> None:
    pool = await shared_images(service, 10)
    before = await kudos(service, h)
    rec = await h.slash("rate", user=h.member(1))
    message = rec.original
    asked: dict[int, str] = {}
    for score in [10, *range(1, 10)]:  # "10" first: two digits, the classic regex slip
        image = shown(message)
        clicked = await h.click(message, score_id(message, score), user=h.member(1))
        assert clicked.type == 6 and clicked.original is message  # acknowledged at once, then this message edited
        asked[score] = image
        assert f"You earned {config.ratings.reward} kudos" in message.content
        if len(asked) < 10:
            assert shown(message) not in asked.values()  # the next image, with fresh buttons
            assert clicked.calls[-1].files  # and its picture attached
    assert "Nothing left to rate — come back later" in message.content
    assert message.custom_ids == [] and message.attachments == []
    stored = await ratings(service)
    assert {image: stored[image][0] for image in pool} == {image: score for score, image in asked.items()}
    assert {agent for _, artifacts, agent in stored.values() if artifacts is None} == {"hordebot:0.1:discord"}
    assert await kudos(service, h) == before + 10 * config.ratings.reward
    assert (await service.rating_stats())["total"] == 10


async def test_artifacts_then_score_records_both(h: DiscordHarness, service: HordeService,
                                                 config: AppConfig) -> None:
    await shared_images(service, 2)
    before = await kudos(service, h)
    rec = await h.slash("rate", user=h.member(1))
    message = rec.original
    image = shown(message)
    content, attachments = message.content, message.attachments
    picked = await h.select(message, f"rate:a:{image}", ["2"], user=h.member(1))
    assert picked.type == 7 and picked.original is message
    assert [c for c in message.custom_ids if c.startswith("rate:s:")] == [
        f"rate:s:{image}:{score}:2" for score in range(1, 11)]
    defaults = [o["value"] for o in message.component(f"rate:a:{image}")["options"] if o.get("default")]
    assert defaults == ["2"]
    assert message.content == content and message.attachments == attachments  # same image, same words
    await h.click(message, f"rate:s:{image}:7:2", user=h.member(1))
    earned = config.ratings.reward + config.ratings.artifacts_bonus
    assert f"You earned {earned} kudos" in message.content
    assert (await ratings(service))[image] == (7, 2, "hordebot:0.1:discord")
    assert await kudos(service, h) == before + earned
    assert (await service.rating_stats())["artifact_ratings_per_client_agent"] == {"hordebot:0.1:discord": 1}

    # an artifacts value can be taken back before scoring
    second = shown(message)
    await h.select(message, f"rate:a:{second}", ["4"], user=h.member(1))
    await h.select(message, f"rate:a:{second}", ["x"], user=h.member(1))
    await h.click(message, f"rate:s:{second}:1:x", user=h.member(1))
    assert (await ratings(service))[second] == (1, None, "hordebot:0.1:discord")


async def test_the_buttons_of_an_old_message_work_after_a_restart(h: DiscordHarness, service: HordeService,
                                                                  config: AppConfig) -> None:
    await shared_images(service, 3)
    rec = await h.slash("rate", user=h.member(1))
    message = rec.original
    first = shown(message)
    await h.restart(build_bot(config, service))
    await h.select(message, f"rate:a:{first}", ["0"], user=h.member(1))
    await h.restart(build_bot(config, service))
    await h.click(message, f"rate:s:{first}:10:0", user=h.member(1))
    assert (await ratings(service))[first] == (10, 0, "hordebot:0.1:discord")
    second = shown(message)
    await h.restart(build_bot(config, service))
    await h.click(message, score_id(message, 5), user=h.member(1))
    assert (await ratings(service))[second] == (5, None, "hordebot:0.1:discord")
    assert shown(message) not in (first, second)


async def test_an_empty_pool_says_to_come_back_later(h: DiscordHarness, service: HordeService) -> None:
    nothing = await h.slash("rate", user=h.member(1))
    assert nothing.original.ephemeral and "Nothing left to rate — come back later" in nothing.original.content
    assert nothing.original.custom_ids == [] and nothing.original.files == []
    await shared_images(service, 1)
    other_model = await h.slash("rate", {"model": "Deliberate"}, user=h.member(1))
    assert "Nothing left to rate" in other_model.original.content
    filtered = await h.slash("rate", {"model": MODEL}, user=h.member(1))
    assert all(c.endswith(f":{MODEL}") for c in filtered.original.custom_ids)
    assert f"only `{MODEL}` images" in filtered.original.content
    await h.click(filtered.original, score_id(filtered.original, 3), user=h.member(1))
    assert "Nothing left to rate" in filtered.original.content
    assert shown((await h.slash("rate", user=h.member(2))).original)  # not rated by member 2 yet


async def test_rating_the_same_image_twice_pays_once_and_moves_on(h: DiscordHarness, service: HordeService,
                                                                  config: AppConfig) -> None:
    await shared_images(service, 2)
    rec = await h.slash("rate", user=h.member(1))
    message = rec.original
    first = shown(message)
    stale = copy.deepcopy(message.data)  # the message as the member's client still shows it
    await h.click(message, f"rate:s:{first}:8:x", user=h.member(1))
    second = shown(message)
    after_first = await kudos(service, h)
    again = await h.click(stale, f"rate:s:{first}:3:x", user=h.member(1))  # a double click
    assert again.original is message and message.ephemeral
    assert "rated that image already" in message.content and "earned nothing more" in message.content
    assert shown(message) == second  # moved on to the image still waiting for this member
    assert await kudos(service, h) == after_first
    assert (await ratings(service))[first] == (8, None, "hordebot:0.1:discord")
    assert await service.ratings_count((await service.user_for_identity(f"discord:{h.member(1).id}", "x")).id) == 1


async def test_a_rating_that_earns_nothing_says_why(h: DiscordHarness, service: HordeService,
                                                    config: AppConfig) -> None:
    config.ratings.daily_reward_cap = 0
    await shared_images(service, 2)
    before = await kudos(service, h)
    rec = await h.slash("rate", user=h.member(1))
    await h.click(rec.original, score_id(rec.original, 6), user=h.member(1))
    assert "earned no kudos this time" in rec.original.content and "daily" in rec.original.content
    assert await kudos(service, h) == before and len(await ratings(service)) == 1


async def test_possibly_nsfw_images_are_shown_only_in_age_restricted_channels(
        h: DiscordHarness, service: HordeService) -> None:
    [nsfw] = await shared_images(service, 1, nsfw=True)
    [sfw] = await shared_images(service, 1)
    here = await h.slash("rate", user=h.member(1))
    assert shown(here.original) == sfw  # the possibly-NSFW image is skipped, not a dead end
    message = here.original
    await h.click(message, score_id(message, 7), user=h.member(1))
    assert "Nothing left to rate" in message.content and message.attachments == []
    h.channel.nsfw = True
    there = await h.slash("rate", user=h.member(1))
    assert shown(there.original) == nsfw and len(there.original.files) == 1
    await service.update_community_settings(f"discord:guild:{h.guild.id}", {"nsfw": "never"}, "admin")
    never = await h.slash("rate", user=h.member(2))
    assert shown(never.original) == sfw


async def test_a_refusal_keeps_the_image_and_says_what_to_do(h: DiscordHarness, service: HordeService,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    await shared_images(service, 1)
    rec = await h.slash("rate", user=h.member(1))
    message = rec.original
    image = shown(message)

    async def slow_down(*args: object, **kwargs: object) -> int:
        raise TooMany("Too many ratings at once.", rc="RateLimited")

    monkeypatch.setattr(service, "rate_shared", slow_down)
    clicked = await h.click(message, score_id(message, 9), user=h.member(1))
    answer = clicked.followups[-1]
    assert answer.ephemeral and "Too many ratings at once." in answer.content and "try again" in answer.content
    assert shown(message) == image and "How good is this image?" in message.content  # still there to score
