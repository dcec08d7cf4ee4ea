"""Pure functions over customer arrays, one module per mechanism of ``docs/model.md``.

Each function takes numpy arrays and scalars and returns arrays; none touches a model, so
each can be unit-tested against its equation by hand.
"""
