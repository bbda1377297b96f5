"""A small linear-operator algebra on trajectory space R^{B x T x H}.

The contract follows scipy's ``LinearOperator``: public ``matvec``/``rmatvec``
validate and reshape, private ``_matvec``/``_rmatvec`` compute; ``.T`` is the
adjoint, ``@`` composes, ``+``/``-`` combine operators only and ``*`` scales by
numbers only.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse.linalg
import torch

from kpwidgets.operators._checks import (
    check_same_dtype_device,
    check_tensor,
    format_shape,
)

DEFAULT_MAX_DENSE_SIZE = 8192


class TrajectoryOperator:
    """A linear operator on trajectories of shape ``[B, T, H]``.

    The inner product is the plain sum over trials, times and hidden units, so
    the adjoint ``op.T`` satisfies ``<op q, r> = <q, op.T r>`` with
    ``<a, b> = (a * b).sum()``.

    Vectors are trajectory tensors ``[B, T, H]``; a block of ``k`` probes is
    ``[k, B, T, H]`` and is applied in one call. Subclasses implement
    ``_matvec`` (and ``_rmatvec`` unless self-adjoint) on blocks ``[k, B, T, H]``.
    """

    symbol = "A"
    is_self_adjoint = False
    # Axes ("trials", "units") over which the operator never mixes entries:
    # it is block-diagonal with one block per trial (or per hidden unit).
    block_diagonal_axes: frozenset[str] = frozenset()

    def __init__(
        self, trajectory_shape: tuple[int, int, int], dtype: torch.dtype, device
    ) -> None:
        self.trajectory_shape = tuple(int(size) for size in trajectory_shape)
        self.dtype = dtype
        self.device = torch.device(device)

    @property
    def shape(self) -> tuple[int, int]:
        """``(N, N)`` with ``N = B * T * H``, the size of the dense matrix."""
        size = int(np.prod(self.trajectory_shape))
        return (size, size)

    @property
    def T(self) -> TrajectoryOperator:  # noqa: N802 (the adjoint, as in numpy)
        """The adjoint operator, with respect to the plain sum inner product."""
        if self.is_self_adjoint:
            return self
        return AdjointOperator(self)

    def matvec(self, vector: torch.Tensor) -> torch.Tensor:
        """Apply the operator to ``[B, T, H]`` or to a block ``[k, B, T, H]``."""
        return self._apply(vector, self._matvec)

    def rmatvec(self, vector: torch.Tensor) -> torch.Tensor:
        """Apply the adjoint to ``[B, T, H]`` or to a block ``[k, B, T, H]``."""
        return self._apply(vector, self._rmatvec)

    def _matvec(self, block: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _rmatvec(self, block: torch.Tensor) -> torch.Tensor:
        if self.is_self_adjoint:
            return self._matvec(block)
        raise NotImplementedError(f"{type(self).__name__} has no adjoint")

    def _apply(self, vector: torch.Tensor, method) -> torch.Tensor:
        check_tensor("vector", vector)
        single = vector.dim() == 3
        if tuple(vector.shape[-3:]) != self.trajectory_shape or vector.dim() not in (
            3,
            4,
        ):
            B, T, H = self.trajectory_shape
            raise ValueError(
                f"vector must have shape [B, T, H] = {format_shape((B, T, H))} or "
                f"a block [k, B, T, H] = [k, {B}, {T}, {H}]; "
                f"got {format_shape(vector.shape)}"
            )
        check_same_dtype_device("vector", vector, self.dtype, self.device)
        block = vector.unsqueeze(0) if single else vector
        if block.shape[0] == 0:
            return torch.zeros_like(vector)
        result = method(block)
        return result[0] if single else result

    def to_dense(self, max_size: int = DEFAULT_MAX_DENSE_SIZE) -> torch.Tensor:
        """The ``[N, N]`` matrix, ``N = B*T*H``, indexed by flattened ``(b, t, h)``.

        Args:
            max_size: Refuse to build a matrix larger than ``max_size`` rows.

        Notes:
            Costs ``N`` matvecs; meant for toy sizes, tests and teaching cells.
        """
        size = self.shape[0]
        if size > max_size:
            B, T, H = self.trajectory_shape
            raise ValueError(
                f"to_dense would build a {size} x {size} matrix (B*T*H = "
                f"{B}*{T}*{H}), above max_size={max_size}; use a smaller "
                "trajectory or pass a larger max_size"
            )
        identity = torch.eye(size, dtype=self.dtype, device=self.device)
        columns = self.matvec(identity.reshape(size, *self.trajectory_shape))
        return columns.reshape(size, size).T.contiguous()

    def to_scipy(self) -> scipy.sparse.linalg.LinearOperator:
        """Wrap as a scipy ``LinearOperator`` on flat numpy vectors (for checks)."""

        def apply(method, vector):
            flat = np.asarray(vector).reshape(-1)
            tensor = torch.as_tensor(flat, device=self.device).to(self.dtype)
            result = method(tensor.reshape(self.trajectory_shape))
            return result.reshape(-1).cpu().numpy()

        return scipy.sparse.linalg.LinearOperator(
            self.shape,
            matvec=lambda vector: apply(self.matvec, vector),
            rmatvec=lambda vector: apply(self.rmatvec, vector),
            dtype=torch.empty((), dtype=self.dtype).numpy().dtype,
        )

    def __matmul__(self, other):
        if isinstance(other, TrajectoryOperator):
            return ProductOperator(self, other)
        if isinstance(other, torch.Tensor):
            return self.matvec(other)
        return NotImplemented

    def __add__(self, other):
        if not isinstance(other, TrajectoryOperator):
            raise TypeError(
                "operators add only to operators; got "
                f"{type(other).__name__} (use * for scalars)"
            )
        return SumOperator(self, other)

    def __sub__(self, other):
        if not isinstance(other, TrajectoryOperator):
            raise TypeError(
                f"operators subtract only operators; got {type(other).__name__}"
            )
        return SumOperator(self, ScaledOperator(other, -1.0))

    def __mul__(self, scalar):
        if isinstance(scalar, numbers.Real) and not isinstance(scalar, bool):
            return ScaledOperator(self, float(scalar))
        raise TypeError(
            f"operators multiply only by real scalars; got {type(scalar).__name__} "
            "(use @ to compose operators or apply them to a tensor)"
        )

    __rmul__ = __mul__

    def __neg__(self):
        return ScaledOperator(self, -1.0)

    def _label(self, with_shape: bool) -> str:
        if not with_shape:
            return self.symbol
        B, T, H = self.trajectory_shape
        return f"{self.symbol}[B={B},T={T},H={H}]"

    def __repr__(self) -> str:
        return self._label(with_shape=True)


def _check_compatible(left: TrajectoryOperator, right: TrajectoryOperator) -> None:
    for attribute in ("trajectory_shape", "dtype", "device"):
        if getattr(left, attribute) != getattr(right, attribute):
            raise ValueError(
                f"cannot combine {left!r} and {right!r}: {attribute} "
                f"{getattr(left, attribute)} differs from {getattr(right, attribute)}"
            )


def _are_adjoint(left: TrajectoryOperator, right: TrajectoryOperator) -> bool:
    if left is right:
        return left.is_self_adjoint
    if isinstance(right, AdjointOperator) and right.operator is left:
        return True
    return isinstance(left, AdjointOperator) and left.operator is right


class AdjointOperator(TrajectoryOperator):
    """The adjoint ``op.T`` of an operator."""

    def __init__(self, operator: TrajectoryOperator) -> None:
        super().__init__(operator.trajectory_shape, operator.dtype, operator.device)
        self.operator = operator
        self.block_diagonal_axes = operator.block_diagonal_axes

    @property
    def T(self) -> TrajectoryOperator:  # noqa: N802
        return self.operator

    def _matvec(self, block):
        return self.operator._rmatvec(block)

    def _rmatvec(self, block):
        return self.operator._matvec(block)

    def _label(self, with_shape: bool) -> str:
        return self.operator._label(with_shape) + ".T"


class ProductOperator(TrajectoryOperator):
    """The composition ``left @ right``: apply ``right`` first."""

    def __init__(self, left: TrajectoryOperator, right: TrajectoryOperator) -> None:
        _check_compatible(left, right)
        super().__init__(left.trajectory_shape, left.dtype, left.device)
        self.factors = [
            *(left.factors if isinstance(left, ProductOperator) else [left]),
            *(right.factors if isinstance(right, ProductOperator) else [right]),
        ]
        # A @ B @ A.T is self-adjoint when B is: mirror factors are adjoint pairs.
        count = len(self.factors)
        self.is_self_adjoint = all(
            _are_adjoint(self.factors[index], self.factors[count - 1 - index])
            for index in range(count)
        )
        self.block_diagonal_axes = frozenset.intersection(
            *(factor.block_diagonal_axes for factor in self.factors)
        )

    def _matvec(self, block):
        for factor in reversed(self.factors):
            block = factor._matvec(block)
        return block

    def _rmatvec(self, block):
        for factor in self.factors:
            block = factor._rmatvec(block)
        return block

    def _label(self, with_shape: bool) -> str:
        labels = [self.factors[0]._label(with_shape)]
        labels += [factor._label(False) for factor in self.factors[1:]]
        return " @ ".join(
            f"({label})" if isinstance(factor, SumOperator) else label
            for label, factor in zip(labels, self.factors, strict=True)
        )


class SumOperator(TrajectoryOperator):
    """The sum ``left + right``."""

    def __init__(self, left: TrajectoryOperator, right: TrajectoryOperator) -> None:
        _check_compatible(left, right)
        super().__init__(left.trajectory_shape, left.dtype, left.device)
        self.left, self.right = left, right
        self.is_self_adjoint = left.is_self_adjoint and right.is_self_adjoint
        self.block_diagonal_axes = left.block_diagonal_axes & right.block_diagonal_axes

    def _matvec(self, block):
        return self.left._matvec(block) + self.right._matvec(block)

    def _rmatvec(self, block):
        return self.left._rmatvec(block) + self.right._rmatvec(block)

    def _label(self, with_shape: bool) -> str:
        return f"{self.left._label(with_shape)} + {self.right._label(False)}"


class ScaledOperator(TrajectoryOperator):
    """A real multiple ``scale * op``."""

    def __init__(self, operator: TrajectoryOperator, scale: float) -> None:
        super().__init__(operator.trajectory_shape, operator.dtype, operator.device)
        self.operator, self.scale = operator, scale
        self.is_self_adjoint = operator.is_self_adjoint
        self.block_diagonal_axes = operator.block_diagonal_axes

    def _matvec(self, block):
        return self.scale * self.operator._matvec(block)

    def _rmatvec(self, block):
        return self.scale * self.operator._rmatvec(block)

    def _label(self, with_shape: bool) -> str:
        return f"{self.scale:g} * {self.operator._label(with_shape)}"


class IdentityOperator(TrajectoryOperator):
    """The identity on trajectories ``[B, T, H]``."""

    symbol = "I"
    is_self_adjoint = True
    block_diagonal_axes = frozenset({"trials", "units"})

    def _matvec(self, block):
        return block.clone()
