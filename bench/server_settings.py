"""Settings of the web server bench/load.py starts: credshare's own, with a URLconf that adds
one bare endpoint (bench/server_urls.py). Only the benchmark uses them, never the product."""

from credshare.settings import *  # noqa: F403 -- everything of the product's settings

ROOT_URLCONF = "server_urls"
