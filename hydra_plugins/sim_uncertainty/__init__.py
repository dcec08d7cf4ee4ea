"""Hydra plugin of the simulator: a sweeper that draws uncertain parameters per sample."""
