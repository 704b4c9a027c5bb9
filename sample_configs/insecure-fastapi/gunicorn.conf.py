# gunicorn settings of the insecure sample (read statically by hardcheck, never imported)
bind = "0.0.0.0:8000"
workers = 2
worker_class = "uvicorn.workers.UvicornWorker"
loglevel = "debug"
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s "%({authorization}i)s"'
logconfig = "logging.yaml"
limit_request_line = 0
