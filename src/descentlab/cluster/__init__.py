"""Sweeps and benchmarks past one machine (issue 16): their independent pieces of work sent
to a Dask cluster, an optional extra (``pip install 'descentlab[dask]'``).

``scheduler``  which cluster (``--scheduler local[:N]`` or ``tcp://HOST:PORT``), the
               connection, what results.json records of the workers
``tasks``      the pieces as Dask tasks: submitted, watched, stopped on request, failures and
               a lost scheduler told apart
"""
