# gunicorn settings of the hardened sample
bind = "127.0.0.1:8000"
workers = 2
worker_class = "uvicorn.workers.UvicornWorker"
loglevel = "info"
accesslog = "-"
# %(U)s is the path without the query string
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'
logconfig = "logging.yaml"
