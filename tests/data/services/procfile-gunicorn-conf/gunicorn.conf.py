# gunicorn reads this module at start: it is the service's server configuration
bind = "0.0.0.0:8000"
workers = 4
worker_class = "uvicorn.workers.UvicornWorker"
loglevel = "debug"
limit_request_field_size = 65536
forwarded_allow_ips = "*"
