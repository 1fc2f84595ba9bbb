"""The playground: a local web server (``descentlab playground``) and its page.

``limits`` holds what protects the machine, ``requests`` reads the page's JSON into the
library's arguments (every rule is the library's; this only says which field broke it),
``landscape_view`` answers the landscape view's questions through ``descentlab.api``,
``commands`` writes the command line of a view's numbers. The race view: ``race_config``
reads a race's settings, ``race`` trains it in a thread and ``live`` and ``boundaries`` make
what it streams, ``sessions`` turns one websocket's messages into races and answers,
``race_results`` writes a finished race's results.json, ``race_options`` lists its choices,
``upload`` keeps uploaded files and ``messages`` writes messages as JSON. ``app`` is the
Starlette application and ``server`` runs it on uvicorn. Only ``app`` and ``server`` import
the web libraries (the ``playground`` extra).
"""
