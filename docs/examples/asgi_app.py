"""An ASGI application that migrates its database in its lifespan.

Several replicas may start at once; each awaits the upgrade on its own event loop,
with the application's own engine, which amigrate uses and leaves open.

amigrate does not install Starlette or an ASGI server, and the app reads
``amigrate.ini`` (or ``$AMIGRATE_CONFIG``) from the current folder, so from the root
of an amigrate checkout, in a virtual environment with amigrate installed::

    pip install starlette uvicorn
    amigrate init migrations && amigrate revision -m "first"
    uvicorn docs.examples.asgi_app:app

and ``GET /health`` shows the heads the lifespan migrated to.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import amigrate

CONFIG_PATH = os.environ.get("AMIGRATE_CONFIG", "amigrate.ini")
config = amigrate.load_config(CONFIG_PATH)
engine = create_async_engine(config.url)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    result = await amigrate.upgrade(config, "head", engine=engine)
    app.state.schema_heads = result.to_heads
    yield
    await engine.dispose()


async def health(request: Request) -> JSONResponse:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT version_num FROM amigrate_version"))
        heads = [row[0] for row in rows]
    return JSONResponse({"schema": heads})


app = Starlette(routes=[Route("/health", health)], lifespan=lifespan)
