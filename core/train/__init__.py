"""AutoML training: the best model the time budget allows, validated honestly.

One concept per module:

- :mod:`core.train.tasks`: task detection (binary, multiclass, regression) and metrics;
- :mod:`core.train.prep`: the model-input table (which columns, as numbers or labels);
- :mod:`core.train.checks`: what is refused or flagged before training;
- :mod:`core.train.split`: the final holdout and the cross-validation folds;
- :mod:`core.train.zoo`: the model families, their search spaces and their fitting;
- :mod:`core.train.search`: the Optuna search inside a strict wall-clock budget;
- :mod:`core.train.ensemble`: greedy ensemble selection over out-of-fold predictions;
- :mod:`core.train.run`: the whole run, from a raw table to a :class:`core.bundle.ModelBundle`;
- :mod:`core.train.job`: the run as a job in a worker process, with live progress in the store.

This package imports nothing heavy at import time, so ``core.bundle`` (which needs
only :mod:`core.train.prep`) stays light for the scoring service.
"""
