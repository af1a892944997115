"""``/api/v1/secrets``: served on the Unix socket only, never on the TCP gateway.

A value travels in a request body (``POST /secrets``) or comes back resolved into a
program's environment (``POST /secrets/exec``); neither may cross a TCP port, whatever
token the caller holds, so these routes are added to the socket's application alone
(like the gateway's token rotation) and the gateway answers them 404.

What goes out: names, times and key ids; the output of an ``exec`` passes through the
daemon's redactor first. A vault error becomes 404 (no such secret or handle), 409
(the name is taken; the vault cannot be opened) or 422 (a bad value or handle, a
program that cannot start),
with its message and hint, which never carry a value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from stockade.daemon.app import resolver_of
from stockade.daemon.limits import Limits, read_body
from stockade.daemon.problems import ApiProblem
from stockade.daemon.schemas import ConfirmBody, parse_body
from stockade.errors import StockadeError
from stockade.vault import runner
from stockade.vault.format import InvalidSecret
from stockade.vault.schemas import ExecBody, SecretBody
from stockade.vault.service import VaultService
from stockade.vault.store import SecretExists, UnknownSecret

PREFIX = "/api/v1/secrets"
_T = TypeVar("_T")


def vault_routes(
    vault: VaultService, limits: Limits, redact_text: Callable[[str], str]
) -> list[BaseRoute]:
    """The socket-only routes of the vault, over ``vault``; ``redact_text`` scrubs output."""

    async def listing(request: Request) -> JSONResponse:
        return JSONResponse(_answer(vault.listing))

    async def add(request: Request) -> JSONResponse:
        body = parse_body(SecretBody, await read_body(request, limits))
        by = resolver_of(request)
        return JSONResponse(
            await _awaited(vault.add(body.name, body.value, replace=body.replace, by=by)),
            status_code=201,
        )

    async def remove(request: Request) -> JSONResponse:
        _confirmed(parse_body(ConfirmBody, await read_body(request, limits)), "removing a secret")
        name: str = request.path_params["name"]
        return JSONResponse(await _awaited(vault.remove(name, by=resolver_of(request))))

    async def rotate(request: Request) -> JSONResponse:
        body = parse_body(ConfirmBody, await read_body(request, limits))
        _confirmed(body, "rotating the master key")
        return JSONResponse(await _awaited(vault.rotate(by=resolver_of(request))))

    async def execute(request: Request) -> JSONResponse:
        body = parse_body(ExecBody, await read_body(request, limits))
        program = body.argv[0].rsplit("/", 1)[-1]
        env = await _awaited(
            vault.resolve_env(body.env, for_whom=resolver_of(request), why=f"exec {program}")
        )
        finished = await _awaited(runner.run(body.argv, env, body.cwd, body.timeout_s))
        return JSONResponse(
            {
                "exit_code": finished.exit_code,
                "stdout": redact_text(finished.stdout.decode("utf-8", "replace")),
                "stderr": redact_text(finished.stderr.decode("utf-8", "replace")),
                "truncated": finished.truncated,
                "timed_out": finished.timed_out,
            }
        )

    return [
        Route(PREFIX, listing, methods=["GET"]),
        Route(PREFIX, add, methods=["POST"]),
        Route(f"{PREFIX}/{{name}}/remove", remove, methods=["POST"]),
        Route(f"{PREFIX}/rotate-key", rotate, methods=["POST"]),
        Route(f"{PREFIX}/exec", execute, methods=["POST"]),
    ]


def _confirmed(body: ConfirmBody, what: str) -> None:
    if not body.confirm:
        raise ApiProblem(
            400, "confirmation_required", f"{what} cannot be undone", 'send "confirm": true'
        )


def _answer(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except StockadeError as exc:
        raise _problem(exc) from None


async def _awaited(pending: Awaitable[_T]) -> _T:
    try:
        return await pending
    except StockadeError as exc:
        raise _problem(exc) from None


def _problem(exc: StockadeError) -> ApiProblem:
    if isinstance(exc, UnknownSecret):
        return ApiProblem(404, "not_found", exc.message, exc.hint)
    if isinstance(exc, SecretExists):
        return ApiProblem(409, "conflict", exc.message, exc.hint)
    if isinstance(exc, InvalidSecret):
        return ApiProblem(422, "invalid_request", exc.message, exc.hint)
    if isinstance(exc, runner.CannotStart):
        return ApiProblem(422, "cannot_run", exc.message, exc.hint)
    return ApiProblem(409, "vault_unavailable", exc.message, exc.hint)
