"""The playground: a local web server (``descentlab playground``) and its page.

``limits`` holds what protects the machine, ``requests`` reads the page's JSON into the
library's arguments (every rule is the library's; this only says which field broke it),
``landscape_view`` answers the landscape view's questions through ``descentlab.api``,
``app`` is the Starlette application and ``server`` runs it on uvicorn. Only ``app`` and
``server`` import the web libraries (the ``playground`` extra).
"""
