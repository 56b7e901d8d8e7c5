"""Contract: what horde-sdk 0.18.0 models about styles, in strict mode (TESTS_ONGOING=1, extra=forbid).

The SDK has no request or response models for the /v2/styles and /v2/collections endpoints (only the paths in
its endpoint list) and no `style` field in its generation requests; what it does model is the `styles` list of a
user's details (ResponseModelStylesUser), which `HordeService.user_styles` produces for the user endpoints.
"""

from __future__ import annotations

from horde_sdk.ai_horde_api.apimodels import ResponseModelStylesUser
from horde_sdk.ai_horde_api.endpoints import AI_HORDE_API_ENDPOINT_SUBPATH as PATHS

from horde_core.service import HordeService
from horde_core.service.style_specs import StyleSpec


async def test_a_users_styles_parse_strictly_as_the_sdk_models_them(service: HordeService, make_user) -> None:
    maker, _ = await make_user("maker")
    maker = await service.set_user_roles_cli(str(maker.id), customizer=True)
    await service.create_style(maker, "image", StyleSpec(name="noir", prompt="{p}", models=["stable_diffusion"]))
    await service.create_style(maker, "text", StyleSpec(name="bard", prompt="{p}", models=["m"], public=False))
    public = await service.user_styles(maker)
    parsed = [ResponseModelStylesUser.model_validate(s) for s in public]
    assert [(p.name, p.type_) for p in parsed] == [(f"{maker.display_name}::style::noir", "image")]
    everything = [ResponseModelStylesUser.model_validate(s) for s in await service.user_styles(maker, private=True)]
    assert sorted(p.type_ for p in everything) == ["image", "text"]
    assert all(len(p.id_) == 36 for p in everything)


def _shape(path: str) -> str:
    """A path with its parameters unnamed: /a/{x}/b -> /a/{}/b."""
    return "/".join("{}" if seg.startswith("{") else seg for seg in path.split("/"))


def test_every_style_path_the_sdk_knows_is_a_route_here() -> None:
    from horde_core.api.routes_styles import routes

    ours = {_shape(r.path.replace("{kind:image|text}", kind)) for r in routes for kind in ("image", "text")}
    sdk = {_shape("/api" + str(p.value)) for p in PATHS if "/styles" in p.value or "collection" in p.value}
    assert len(sdk) >= 10 and sdk <= ours, sdk - ours
