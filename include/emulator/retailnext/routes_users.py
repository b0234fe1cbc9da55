"""RetailNext user routes: ``/v1/users`` (list, create, update) and the user and location
profiles (``/v1/user_profiles``, ``/v1/location_profiles``, each also by id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from include.emulator.retailnext.errors import bad_request, not_found
from include.emulator.retailnext.routes_common import Handler, RnContext, read_json, rn_json, v1_page

if TYPE_CHECKING:
    from include.emulator.retailnext.dataset import RetailNextDataset


async def v1_users(ctx: RnContext, request: Request) -> Response:
    if request.method == "POST":
        body = await read_json(request)
        return rn_json({"user": ctx.ds().create_user(body)})
    users = ctx.ds().users()
    utype = request.query_params.get("type")
    if utype is not None:
        if utype.lower() not in ("local", "sso"):
            raise bad_request(f"type must be local or SSO (got {utype!r})")
        users = [u for u in users if u["type"] == utype.lower()]
    email = request.query_params.get("email")
    if email is not None:
        users = [u for u in users if u["email"] == email]
    return v1_page(request, users, lambda page: {"users": page})


async def v1_user_update(ctx: RnContext, request: Request) -> Response:
    body = await read_json(request)
    return rn_json({"user": ctx.ds().update_user(request.path_params["user_id"], body)})


def profiles(
    key: str, getter: Callable[[RetailNextDataset], list[dict[str, Any]]], label: str
) -> tuple[Handler, Handler]:
    """The listing and the by-id handler of one kind of profile (``getter`` reads the dataset)."""

    async def listing(ctx: RnContext, request: Request) -> Response:
        return v1_page(request, getter(ctx.ds()), lambda page: {key: page})

    async def one(ctx: RnContext, request: Request) -> Response:
        pid = request.path_params["profile_id"]
        rows = [p for p in getter(ctx.ds()) if p["id"] == pid]
        if not rows:
            raise not_found(f"{label} {pid} not found")
        return v1_page(request, rows, lambda page: {key: page})

    return listing, one


user_profiles, user_profile = profiles("user_profiles", lambda rn: rn.user_profiles(), "user profile")
location_profiles, location_profile = profiles(
    "location_profiles", lambda rn: rn.location_profiles(), "location profile"
)
