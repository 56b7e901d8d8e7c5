"""Proves the bot test harness on a throwaway bot: real CommandTree/ViewStore dispatch, HTTP-level capture."""

from __future__ import annotations

import asyncio
import io
import re

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from horde_core.clock import FakeClock
from tests.bot.harness import TOKEN_LIFETIME, DiscordHarness, HarnessError, InteractionFailed, make_bot

CALLBACK = "/interactions/{webhook_id}/{webhook_token}/callback"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
ORIGINAL = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
JOBS = ["job-alpha", "job-beta", "job-gamma", "other"]


# ---------------------------------------------------------------------------------------------- the throwaway bot


class RateButton(discord.ui.DynamicItem[discord.ui.Button], template=r"rate:(?P<job>[a-z0-9-]+):(?P<n>\d+)"):
    def __init__(self, job: str, n: int) -> None:
        super().__init__(
            discord.ui.Button(label=f"+1 ({n})", style=discord.ButtonStyle.primary, custom_id=f"rate:{job}:{n}")
        )
        self.job = job
        self.n = n

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> RateButton:
        return cls(match["job"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: LabBot = interaction.client  # type: ignore[assignment]
        bot.events.append(("rate", self.job, self.n + 1))
        view = discord.ui.View(timeout=None)
        view.add_item(RateButton(self.job, self.n + 1))
        await interaction.response.edit_message(
            content=f"{self.job} rated {self.n + 1} (gen {bot.generation})", view=view
        )


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="What happened?", custom_id="feedback-text", min_length=3, max_length=200
    )

    def __init__(self, job: str) -> None:
        super().__init__(custom_id=f"feedback:{job}")
        self.job = job

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks for {self.job}: {self.text.value}", ephemeral=True)


class PickView(discord.ui.View):
    @discord.ui.select(
        custom_id="pick-model",
        options=[discord.SelectOption(label=m, value=m) for m in ("sdxl", "flux", "sd15")],
        max_values=2,
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[PickView]) -> None:
        await interaction.response.edit_message(content=f"models: {','.join(select.values)}", view=None)


class Lab(commands.Cog):
    worker = app_commands.Group(name="worker", description="Worker tools")

    def __init__(self, bot: LabBot) -> None:
        self.bot = bot

    @app_commands.command(name="submit", description="Submit a job")
    async def submit(
        self,
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, 50],
        steps: app_commands.Range[int, 1, 50],
        nsfw: bool,
        worker: discord.Member,
        image: discord.Attachment,
    ) -> None:
        raw = await image.read()
        embed = discord.Embed(title="queued", description=prompt).add_field(name="steps", value=str(steps))
        await interaction.response.send_message(
            f"{prompt}|{steps}|{nsfw}|{worker.id}|{image.filename}|{len(raw)}",
            embed=embed,
            file=discord.File(io.BytesIO(raw[::-1]), filename="reversed.bin"),
            ephemeral=True,
        )

    @app_commands.command(name="render", description="Render with progress")
    async def render(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        progress = await interaction.followup.send("rendering 0%", wait=True)
        await progress.edit(content="rendering 100%")
        original = await interaction.original_response()
        note = await interaction.followup.send("only you see this", ephemeral=True, wait=True)
        self.bot.events.append(("render", progress.id, original.id, note.id))

    @worker.command(name="key", description="Show a worker key")
    async def worker_key(self, interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"key for {name}: wk-{name[::-1]}", ephemeral=True)

    @app_commands.command(name="status", description="Job status")
    async def status(self, interaction: discord.Interaction, job: str) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.edit_original_response(content=f"{job}: done")

    @status.autocomplete("job")
    async def status_job(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=j.upper(), value=j) for j in JOBS if current in j]

    @app_commands.command(name="purge", description="Admins only")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def purge(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("purged")

    @purge.error
    async def purge_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            await interaction.response.send_message(f"missing: {','.join(error.missing_permissions)}", ephemeral=True)

    @app_commands.command(name="rate", description="Rate a job")
    async def rate(self, interaction: discord.Interaction, job: str) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(RateButton(job, 0))
        await interaction.response.send_message(f"{job} rated 0", view=view)

    @app_commands.command(name="post", description="Post a result to the channel")
    async def post(self, interaction: discord.Interaction, job: str) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(RateButton(job, 0))
        file = discord.File(io.BytesIO(b"\x89PNG-result-" + job.encode()), filename="result.png")
        await interaction.channel.send(f"{job} result", file=file, view=view)  # type: ignore[union-attr]
        await interaction.response.send_message("posted", ephemeral=True)

    @app_commands.command(name="feedback", description="Send feedback")
    async def feedback(self, interaction: discord.Interaction, job: str) -> None:
        await interaction.response.send_modal(FeedbackModal(job))

    @app_commands.command(name="pick", description="Pick models")
    async def pick(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick models", view=PickView(), ephemeral=True)

    @app_commands.command(name="queue", description="Answer now, follow up when the job is done")
    async def queue(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message("queued", ephemeral=True)
        self.bot.jobs.append(asyncio.create_task(self._finish(interaction)))

    async def _finish(self, interaction: discord.Interaction) -> None:
        await self.bot.job_done.wait()
        await interaction.followup.send("finished")

    @app_commands.command(name="slow", description="Defer, wait for the job, then edit the reply")
    async def slow(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await self.bot.job_done.wait()
        await interaction.edit_original_response(content="done")

    @app_commands.command(name="whisper", description="Answer by DM")
    async def whisper(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        try:
            await interaction.user.send("psst")
        except discord.Forbidden as exc:
            await interaction.edit_original_response(content=f"refused {exc.code}")
        else:
            await interaction.edit_original_response(content="sent")

    @app_commands.command(name="boom", description="Always fails")
    async def boom(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("kaboom")

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.bot.reactions.append(("add", str(payload.emoji), payload.user_id, payload.type, payload.message_author_id))
        channel = self.bot.get_channel(payload.channel_id)
        await channel.send(f"reaction {payload.emoji} from {payload.user_id}")  # type: ignore[union-attr]

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self.bot.reactions.append(("remove", str(payload.emoji), payload.user_id, payload.type, None))


class LabBot(commands.Bot):
    def __init__(self, generation: int = 1) -> None:
        intents = discord.Intents.default()
        intents.members = True
        super().__init__(command_prefix=commands.when_mentioned, intents=intents)
        self.generation = generation
        self.events: list[tuple[object, ...]] = []
        self.reactions: list[tuple[object, ...]] = []
        self.job_done = asyncio.Event()
        self.jobs: list[asyncio.Task[None]] = []

    async def setup_hook(self) -> None:
        await self.add_cog(Lab(self))
        self.add_dynamic_items(RateButton)


@pytest.fixture
async def h():
    harness = await make_bot(LabBot())
    yield harness
    await harness.close()


# ---------------------------------------------------------------------------------------------- tests


async def test_slash_options_are_typed_and_the_ephemeral_reply_is_captured(h: DiscordHarness) -> None:
    who = h.member(1)
    image = h.attachment(b"\x00\x01\x02PNGDATA", "in.png", "image/png")
    rec = await h.slash("submit", {"prompt": "fox", "steps": 30, "nsfw": False, "worker": who, "image": image})

    options = {o["name"]: o for o in rec.payload["data"]["options"]}
    assert {n: o["type"] for n, o in options.items()} == {"prompt": 3, "steps": 4, "nsfw": 5, "worker": 6, "image": 11}
    assert options["steps"]["value"] == 30 and options["nsfw"]["value"] is False
    resolved = rec.payload["data"]["resolved"]
    assert options["worker"]["value"] in resolved["users"] and options["worker"]["value"] in resolved["members"]
    assert resolved["attachments"][options["image"]["value"]]["filename"] == "in.png"
    member_perms = discord.Permissions(int(rec.payload["member"]["permissions"]))
    assert member_perms == h.channel.permissions_for(h.member(0))

    assert rec.type == 4 and rec.ephemeral and rec.flags & 64
    assert rec.content == f"fox|30|False|{who.id}|in.png|10"
    assert rec.embeds[0]["title"] == "queued" and rec.embeds[0]["fields"][0]["value"] == "30"
    assert [f.filename for f in rec.files] == ["reversed.bin"]
    assert rec.files[0].data == b"ATADGNP\x02\x01\x00"
    assert rec.attachments[0]["filename"] == "reversed.bin"
    (call,) = rec.calls
    assert call.path == CALLBACK and call.method == "POST" and call.via == "webhook_adapter"
    assert f"/interactions/{rec.id}/{rec.token}/callback" in call.url
    assert rec.original is not None and rec.original.ephemeral


async def test_defer_then_followup_then_edit(h: DiscordHarness) -> None:
    rec = await h.slash("render")

    assert rec.type == 5 and not rec.ephemeral
    assert [(c.method, c.path) for c in rec.calls] == [
        ("POST", CALLBACK),
        ("POST", FOLLOWUP),
        ("PATCH", MESSAGE),
        ("GET", ORIGINAL),
        ("POST", FOLLOWUP),
    ]
    progress, note = rec.followups
    # Discord turns the first followup after a "thinking" defer into the original response (same message).
    assert progress is rec.original and not progress.loading
    assert progress.edits[0].data["content"] == "rendering 0%"
    assert rec.edits[-1]["content"] == "rendering 100%" and progress.content == "rendering 100%"
    assert note.content == "only you see this" and note.ephemeral and note.id != progress.id
    assert h.bot.events == [("render", progress.id, progress.id, note.id)]


async def test_subcommand_path_nests_options(h: DiscordHarness) -> None:
    rec = await h.slash("worker key", options={"name": "alpha"})

    data = rec.payload["data"]
    assert data["name"] == "worker"
    assert data["options"] == [{"type": 1, "name": "key", "options": [{"type": 3, "name": "name", "value": "alpha"}]}]
    assert rec.type == 4 and rec.ephemeral and rec.content == "key for alpha: wk-ahpla"


async def test_autocomplete_and_edit_of_the_deferred_original(h: DiscordHarness) -> None:
    choices = await h.autocomplete("status", "job", "job-")
    assert choices == [{"name": j.upper(), "value": j} for j in JOBS[:3]]
    ac = h.records[-1]
    assert ac.payload["type"] == 4 and ac.payload["data"]["options"][0]["focused"] is True and ac.type == 8

    rec = await h.slash("status", {"job": "job-beta"})
    assert rec.type == 5 and rec.ephemeral
    assert [(c.method, c.path) for c in rec.calls] == [("POST", CALLBACK), ("PATCH", ORIGINAL)]
    assert len(rec.edits) == 1 and rec.edits[0]["content"] == "job-beta: done"
    assert rec.original is not None and rec.original.content == "job-beta: done" and not rec.original.loading


async def test_permission_check_failure_is_answered_ephemerally(h: DiscordHarness) -> None:
    member = h.member(0)
    denied = await h.slash("purge", user=member)
    assert not discord.Permissions(int(denied.payload["member"]["permissions"])).manage_guild
    assert denied.type == 4 and denied.ephemeral and denied.content == "missing: manage_guild"

    await h.grant(member, manage_guild=True)
    allowed = await h.slash("purge", user=member)
    assert discord.Permissions(int(allowed.payload["member"]["permissions"])).manage_guild
    assert allowed.type == 4 and not allowed.ephemeral and allowed.content == "purged"


async def test_dynamic_button_keeps_working_after_the_bot_is_rebuilt(h: DiscordHarness) -> None:
    first_bot = h.bot
    rec = await h.slash("rate", {"job": "job-1"})
    assert rec.custom_ids == ["rate:job-1:0"] and not rec.ephemeral

    clicked = await h.click(rec, "rate:job-1:0")
    assert clicked.payload["type"] == 3 and clicked.payload["data"] == {
        "custom_id": "rate:job-1:0",
        "component_type": 2,
    }
    assert clicked.payload["message"]["id"] == str(rec.original.id)
    assert clicked.type == 7 and clicked.content == "job-1 rated 1 (gen 1)"
    assert rec.original.custom_ids == ["rate:job-1:1"]  # the stored message was updated

    await h.restart(LabBot(generation=2))
    assert h.bot is not first_bot and first_bot.is_closed()
    again = await h.click(rec, "rate:job-1:1")
    assert again.type == 7 and again.content == "job-1 rated 2 (gen 2)"
    assert first_bot.events == [("rate", "job-1", 1)] and h.bot.events == [("rate", "job-1", 2)]


async def test_channel_message_files_and_buttons_survive_restart(h: DiscordHarness) -> None:
    rec = await h.slash("post", {"job": "job-7"})
    assert rec.ephemeral and rec.content == "posted"
    message = h.get_message()
    assert message.content == "job-7 result"
    (sent,) = h.sent(h.channel)
    assert sent.custom_ids == ["rate:job-7:0"] and sent.id == message.id
    assert h.files(message)[0].data == b"\x89PNG-result-job-7"
    assert await message.attachments[0].read() == b"\x89PNG-result-job-7"

    channel_id = message.channel.id
    await h.restart(LabBot(generation=2))
    assert h.channel.id == channel_id  # same world, new bot
    clicked = await h.click(message, "rate:job-7:0")
    assert clicked.type == 7 and clicked.content == "job-7 rated 1 (gen 2)"
    assert sent.content == "job-7 rated 1 (gen 2)" and sent.custom_ids == ["rate:job-7:1"]


async def test_modal_is_shown_and_submitted(h: DiscordHarness) -> None:
    rec = await h.slash("feedback", {"job": "job-3"})
    assert rec.type == 9 and rec.modal["custom_id"] == "feedback:job-3" and rec.modal["title"] == "Feedback"

    with pytest.raises(HarnessError, match="length"):
        await h.submit_modal(rec, {"feedback-text": "no"})  # min_length=3: Discord would not let it through

    done = await h.submit_modal(rec, {"feedback-text": "too blurry"})
    assert done.payload["type"] == 5 and done.payload["data"]["custom_id"] == "feedback:job-3"
    assert done.type == 4 and done.ephemeral and done.content == "thanks for job-3: too blurry"


async def test_string_select(h: DiscordHarness) -> None:
    rec = await h.slash("pick")
    assert rec.component("pick-model")["max_values"] == 2

    with pytest.raises(HarnessError, match="not among the options"):
        await h.select(rec, "pick-model", ["dalle"])

    picked = await h.select(rec, "pick-model", ["flux", "sdxl"])
    assert picked.payload["data"] == {"custom_id": "pick-model", "component_type": 3, "values": ["flux", "sdxl"]}
    assert picked.type == 7 and picked.content == "models: flux,sdxl" and picked.components == []
    assert rec.original is not None and rec.original.components == []  # the view was removed from the message


async def test_reactions_unicode_and_custom_emoji(h: DiscordHarness) -> None:
    await h.slash("post", {"job": "job-9"})
    message = h.get_message()
    user = h.member(1)

    await h.react(message, "👍", user)
    await h.react(message, "<:horde:123456789012345678>", user)
    await h.unreact(message, "👍", user)

    assert h.bot.reactions == [
        ("add", "👍", user.id, discord.ReactionType.normal, h.bot.user.id),
        ("add", "<:horde:123456789012345678>", user.id, discord.ReactionType.normal, h.bot.user.id),
        ("remove", "👍", user.id, discord.ReactionType.normal, None),
    ]
    assert h.get_message().content == f"reaction 👍 from {user.id}"
    assert h.get_message().content == f"reaction <:horde:123456789012345678> from {user.id}"


async def test_background_work_is_not_awaited_but_can_be_drained(h: DiscordHarness) -> None:
    rec = await h.slash("queue")
    assert rec.content == "queued" and rec.followups == []
    assert len(rec.background_tasks) == 1 and not rec.background_tasks[0].done()

    h.bot.job_done.set()
    await h.drain(rec)
    assert [m.content for m in rec.followups] == ["finished"] and not rec.followups[0].ephemeral


async def test_unhandled_errors_and_missing_acknowledgement_fail_loudly(h: DiscordHarness) -> None:
    with pytest.raises(InteractionFailed) as failure:
        await h.slash("boom")
    assert isinstance(failure.value.__cause__, app_commands.CommandInvokeError)
    assert "kaboom" in repr(failure.value.__cause__.original)

    rec = await h.slash("boom", raise_errors=False, expect_response=False)
    assert not rec.acknowledged and len(rec.errors) == 1


async def test_harness_refuses_what_a_discord_user_cannot_do(h: DiscordHarness) -> None:
    with pytest.raises(HarnessError, match="no option"):
        await h.slash("worker key", {"nmae": "typo"})
    with pytest.raises(HarnessError, match="required"):
        await h.slash("worker key")
    with pytest.raises(HarnessError, match="maximum"):
        await h.slash("submit", {"prompt": "x", "steps": 99, "nsfw": True, "worker": h.member(1), "image": b""})
    rec = await h.slash("pick", user=h.member(0))
    with pytest.raises(HarnessError, match="ephemeral"):
        await h.select(rec, "pick-model", ["flux"], user=h.member(1))
    with pytest.raises(HarnessError, match="no component"):
        await h.click(rec, "does-not-exist")


async def test_command_sync_is_captured(h: DiscordHarness) -> None:
    synced = await h.bot.tree.sync()
    names = sorted(c.name for c in synced)
    assert names == [
        "boom",
        "feedback",
        "pick",
        "post",
        "purge",
        "queue",
        "rate",
        "render",
        "slow",
        "status",
        "submit",
        "whisper",
        "worker",
    ]
    worker = next(c for c in h.synced_commands[None] if c["name"] == "worker")
    assert worker["options"][0]["name"] == "key" and worker["options"][0]["type"] == 1


async def test_tokens_expire_on_the_clock_and_long_handlers_can_be_left_running() -> None:
    clock = FakeClock()
    harness = await make_bot(LabBot(), clock=clock)
    try:
        bot: LabBot = harness.bot  # type: ignore[assignment]
        rec = await harness.slash("slow", wait=False)  # returns at the deferral; the handler keeps waiting
        assert rec.type == 5 and rec.original.loading and rec.background_tasks
        clock.advance(TOKEN_LIFETIME - 1)
        bot.job_done.set()
        content = await harness.until(lambda: rec.original.content, what="the edit")
        assert content == "done"
        bot.job_done.clear()
        late = await harness.slash("slow", wait=False)
        clock.advance(TOKEN_LIFETIME)
        bot.job_done.set()
        await harness.drain(late)  # discord.py's tree handled the error: logged, as nobody else did
        error = harness.background_errors[-1]
        assert isinstance(error, app_commands.CommandInvokeError)
        assert isinstance(error.original, discord.HTTPException)
        assert (error.original.status, error.original.code) == (401, 50027)
        with pytest.raises(HarnessError, match="the impossible"):
            await harness.until(lambda: False, what="the impossible", max_wait=0.05)
    finally:
        await harness.close()


async def test_an_old_process_can_overlap_a_restart_then_dies_with_its_handlers(h: DiscordHarness) -> None:
    rec = await h.slash("slow", wait=False)
    old = h.bot
    await h.restart(LabBot(generation=2), keep_old=True)
    assert h.instances == [old] and not old.is_closed()
    assert not any(t.done() for t in rec.background_tasks)  # still waiting, in the old process
    await h.stop(old)
    assert h.instances == [] and old.is_closed() and all(t.cancelled() for t in rec.background_tasks)


async def test_stalled_calls_are_never_answered(h: DiscordHarness) -> None:
    bot: LabBot = h.bot  # type: ignore[assignment]
    h.stall(lambda call: call.method == "PATCH")
    rec = await h.slash("slow", wait=False)
    bot.job_done.set()
    [stalled] = await h.until(lambda: h.stalled, what="the stalled edit")
    assert stalled.body["content"] == "done" and not rec.original.content
    h.stall(None)
    again = await h.slash("slow")
    assert again.original.content == "done"


async def test_direct_messages_and_closed_dms(h: DiscordHarness) -> None:
    sent = await h.slash("whisper", user=h.member(1))
    assert sent.original.content == "sent" and [m.content for m in h.dms(h.member(1))] == ["psst"]
    h.close_dms(h.member(1))
    refused = await h.slash("whisper", user=h.member(1))
    assert refused.original.content == "refused 50007" and len(h.dms(h.member(1))) == 1
