from aiohttp import web


async def upload(request: web.Request) -> web.Response:
    data = await request.read()
    return web.Response(text=str(len(data)))


app = web.Application(client_max_size=0, debug=True)
app.router.add_post("/upload", upload)

# the session cookie: readable by scripts, no Secure, no SameSite (aiohttp_session's defaults)
from aiohttp_session import setup  # noqa: E402
from aiohttp_session.cookie_storage import EncryptedCookieStorage  # noqa: E402

setup(app, EncryptedCookieStorage(b"0" * 32, httponly=False))
