"""The state-machine engine every stateful domain uses (engine.py) and its one error (errors.py)."""
