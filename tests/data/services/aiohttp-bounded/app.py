import os

from aiohttp import web
from aiohttp_session import setup
from aiohttp_session.cookie_storage import EncryptedCookieStorage


async def upload(request: web.Request) -> web.Response:
    data = await request.post()
    return web.json_response({"fields": len(data)})


app = web.Application()  # client_max_size: 1 MiB by default
app.router.add_post("/upload", upload)
setup(app, EncryptedCookieStorage(os.environ["SESSION_KEY"].encode(), secure=True, samesite="Lax"))

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8080)
