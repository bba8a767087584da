"""A request to a protected endpoint makes one trip to the threadpool (the verification, the
issuing), not two: the bearer token dependency is a coroutine function. FastAPI runs a plain
``def`` dependency in its threadpool, so the token check (a few tens of microseconds) cost a
thread hop of its own each request, and under load a GIL handoff more."""

from __future__ import annotations

import inspect

from fastapi.routing import APIRoute

from tradevc.service.routes import router


def token_dependencies(dependant):
    for dependency in dependant.dependencies:
        if getattr(dependency.call, "__qualname__", "").startswith("_scope.<locals>."):
            yield dependency.call
        yield from token_dependencies(dependency)


def test_the_token_dependency_runs_on_the_event_loop():
    found = [call for route in router.routes if isinstance(route, APIRoute)
             for call in token_dependencies(route.dependant)]
    protected = [route.path for route in router.routes if isinstance(route, APIRoute)
                 and any(True for _ in token_dependencies(route.dependant))]
    assert "/credentials/verify" in protected and "/issuers/{name}/credentials/issue" in protected
    assert found and all(inspect.iscoroutinefunction(call) for call in found)
