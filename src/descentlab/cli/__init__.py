"""The ``descentlab`` command: a thin shell over the library.

``main``        parse, run the chosen command, exit codes (2 usage, 130 interrupted, 141 pipe);
                ``console`` is the program: ``main`` and a quick exit
``parser``      the top-level parser; builds the options of the chosen command only
``commands/``   the registry (name -> module, summary) and one module per command
``options``     option groups several commands share, declared once, and their readers
``arguments``   value types: text -> checked value or a one-line error
``interrupt``   Ctrl-C and the progress bar around a training call
``data``        the data options of ``compare`` and ``train``, and their reader
``training``    what ``compare`` and ``train`` share: their options, run and printout
"""

from descentlab.cli.main import console, main

__all__ = ["console", "main"]
