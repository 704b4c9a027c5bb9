from aiohttp import web


async def upload(request: web.Request) -> web.Response:
    data = await request.read()
    return web.Response(text=str(len(data)))


app = web.Application(client_max_size=0, debug=True)
app.router.add_post("/upload", upload)
