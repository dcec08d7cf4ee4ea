"""The simulator's Hydra sweeper: seeds of one config run together, finished runs skipped."""
