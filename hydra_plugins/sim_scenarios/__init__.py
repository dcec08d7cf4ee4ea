"""Hydra plugins of the simulator: the scenario library as the ``scenario`` config group."""
