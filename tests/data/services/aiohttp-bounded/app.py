from aiohttp import web


async def upload(request: web.Request) -> web.Response:
    data = await request.post()
    return web.json_response({"fields": len(data)})


app = web.Application()  # client_max_size: 1 MiB by default
app.router.add_post("/upload", upload)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=8080)
