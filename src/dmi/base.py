"""The estimator contract shared by :class:`~dmi.IndexModel` and :class:`~dmi.TierModel`.

Both are scikit-learn estimators (``get_params``, ``set_params``, ``clone`` and the repr come
from :class:`sklearn.base.BaseEstimator`): ``__init__`` only stores its parameters, ``fit`` checks
them against the class's declared ``_parameter_constraints`` table (as scikit-learn's ``KMeans``
does) and learns the attributes whose names end in ``_``. What this base adds is dmi's errors: a
parameter that breaks the table is a :class:`~dmi.errors.ParameterError` and use before ``fit`` a
:class:`~dmi.errors.NotFittedError`, both :class:`~dmi.errors.DmiError` (one plain line at the
command line) and both still what scikit-learn's own code catches (``ValueError``, and
scikit-learn's ``NotFittedError``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils._param_validation import (
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import check_is_fitted

from dmi.errors import NotFittedError, ParameterError

__all__ = ["DmiEstimator", "str_options"]


def str_options(names: Iterable[str]) -> StrOptions:
    """scikit-learn's ``StrOptions`` constraint over ``names``, listed in their order.

    ``StrOptions`` takes a set, and a set of strings is listed in a different order in every
    process; the keys of a dict behave as the set and keep the order, so the message is the
    same on every run.
    """
    return StrOptions(dict.fromkeys(names).keys())  # type: ignore[arg-type]


class DmiEstimator(BaseEstimator):
    """Base of dmi's estimators: scikit-learn's contract, dmi's errors.

    A subclass declares ``_parameter_constraints`` (checked by :meth:`_validate_params`),
    may add checks of parameters that only hold together in :meth:`_check_param_combinations`,
    and says in ``_fit_hint`` how to get a fitted model.
    """

    _parameter_constraints: ClassVar[dict[str, list[object]]] = {}
    _fit_hint: ClassVar[str] = "call fit() first"

    def _validate_params(self) -> None:
        """Check the parameters against ``_parameter_constraints``, then together.

        Raises
        ------
        ParameterError
            Naming the parameter, what it must be and what it is.
        """
        params = self.get_params(deep=False)
        for name, constraints in self._parameter_constraints.items():
            # one parameter at a time, so that the error can say which one (for a model file)
            try:
                validate_parameter_constraints(
                    {name: constraints}, {name: params[name]}, caller_name=type(self).__name__
                )
            except InvalidParameterError as exc:
                raise ParameterError(str(exc), parameter=name) from None
        self._check_param_combinations()

    def _check_param_combinations(self) -> None:
        """Raise :class:`ParameterError` for parameters that do not go together (none here)."""

    def _check_fitted(self) -> None:
        """Raise :class:`~dmi.errors.NotFittedError` unless the estimator is fitted."""
        try:
            check_is_fitted(self)
        except SklearnNotFittedError:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: {self._fit_hint}"
            ) from None
