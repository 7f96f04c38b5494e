"""WSGI entry point: `gunicorn -c gunicorn.conf.py tubetags_site.wsgi` from webapp/."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tubetags_site.settings")
application = get_wsgi_application()
