"""The month's hot loops, fused: the same equations as :mod:`sim.mechanisms`, fewer passes.

The functions of :mod:`sim.mechanisms` state each equation on whole arrays, one array
operation at a time; at 100,000 customers the month spends most of its time walking memory
between those operations. Each kernel here computes a chain of them in one pass per
customer, twice: once in numpy (a handful of column operations) and once as a plain loop
that numba compiles when the run is large (:mod:`sim.accel`). The two give the same
numbers bit for bit: the loops do only additions, multiplications, divisions and
comparisons, in the same order as numpy, and every ``exp``, ``log`` and random draw is
taken by numpy for both. The tests check each kernel against the other and against the
mechanism functions it fuses.
"""
