# The hello baseline's gunicorn settings: the very line every service's gunicorn.conf.py holds, so a change of
# workers, threads or worker class there moves the baseline with the services.
from backoffice_common.gunicorn_conf import *  # noqa: F401,F403
