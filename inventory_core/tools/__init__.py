"""Tools built on the library, for operators and developers: demo data and the query profile.

:mod:`~inventory_core.tools.generate` writes a realistic, deterministic year of data through
the :class:`~inventory_core.Inventory` facade's bulk path (``inventory-core generate``, the
benchmarks); :mod:`~inventory_core.tools.profile` times the library's own critical queries on
a live database and shows their plans (``inventory-core profile``). They sit above the facade
and below the CLI: nothing in the library imports them.
"""
