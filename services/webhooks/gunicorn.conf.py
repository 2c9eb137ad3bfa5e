from backoffice_common.gunicorn_conf import *  # noqa: F401,F403
