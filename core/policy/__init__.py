"""The §115 policy: the evaluator (evaluator.py) and the policy files (policies/)."""
