r"""How the tasks of a multitask network share hidden states and gradient steps.

Two views of the four Memory-Pro variants trained together:

- :func:`task_similarity`: the cosine similarity between the hidden states of
  two tasks on trials with matched stimulus angles: what the tasks *share*.
- :func:`task_interference`: the change of task ``k``'s hidden states caused
  by task ``l``'s error in one small gradient step,

  .. math::

      \delta z_{k \leftarrow l} = -\eta\, P_k K_{kl} P_l^* e_l ,

  and its alignment with task ``k``'s own term :math:`\delta z_{k \leftarrow k}`:
  whether learning task ``l`` helps (``> 0``) or pushes against (``< 0``) what
  task ``k`` needs. ``P`` is block-diagonal over trials, so ``P_k`` is ``P`` on
  task ``k``'s trials; ``K`` couples all trials, so ``K_kl`` is not zero.

Both compare *centred* vectors by default: from each task's hidden states (or
each push on task ``k``'s trials) the mean over that task's trials is
subtracted at every step and unit,

.. math::

    \tilde z_k(i, t) = z_k(i, t) - \frac{1}{n} \sum_{j=1}^{n} z_k(j, t),

for the ``n`` trials ``i`` of task ``k``. What is left depends on the stimulus
angle; what every trial of a task shares (the fixation-driven path, the cue's
after-effect) is gone. Without centring that shared part dominates: before
training every pair of tasks has a hidden similarity of 0.9 or more, whatever
the tasks, and after training tasks that answer the same angle in opposite
directions look unrelated (near 0) rather than opposite. The course's sweeps
(:mod:`kpwidgets.experiments`) call these functions with their defaults, on the
steps after the cue.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kpwidgets.analysis.gradient_flow import readout_error
from kpwidgets.models import RecurrentModel
from kpwidgets.operators import kpflow_operators
from kpwidgets.operators._checks import check_tensor, format_shape
from kpwidgets.tasks import EvaluationBatch, Task


def _check_labels(labels: object, num_trials: int) -> tuple[torch.Tensor, int]:
    """Validate trial labels [B]: every task has the same number of trials."""
    if labels is None:
        raise ValueError(
            "labels must give each trial's task; got None (use the evaluation "
            "batch of the 'multitask' task, whose .labels hold them)"
        )
    check_tensor("labels", labels)
    if labels.dim() != 1 or labels.shape[0] != num_trials:
        raise ValueError(
            f"labels must have shape [B] = [{num_trials}]; "
            f"got {format_shape(labels.shape)}"
        )
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer task indices; got {labels.dtype}")
    labels = labels.cpu()
    if labels.numel() == 0 or int(labels.min()) < 0:
        raise ValueError("labels must be non-negative task indices")
    counts = torch.bincount(labels)
    if int(counts.min()) == 0 or len(set(counts.tolist())) != 1:
        raise ValueError(
            "labels must give every task 0 .. L-1 the same number of trials, in "
            f"matched order (an evaluation batch); got counts {counts.tolist()}"
        )
    return labels, len(counts)


def _steps_window(steps: slice | None, num_steps: int) -> slice:
    if steps is None:
        return slice(0, num_steps)
    if not isinstance(steps, slice) or steps.step not in (None, 1):
        raise ValueError(f"steps must be a slice of time steps; got {steps!r}")
    window = slice(*steps.indices(num_steps)[:2])
    if window.stop <= window.start:
        raise ValueError(f"steps must select at least one of {num_steps} steps")
    return window


def _by_task(vectors: torch.Tensor, labels: torch.Tensor, num_tasks: int):
    """Trials ``[B, ...]`` grouped by task in matched order: ``[L, B / L, ...]``."""
    labels = labels.to(vectors.device)
    return torch.stack([vectors[labels == k] for k in range(num_tasks)])


def _check_trials_for_centring(trials_per_task: int) -> None:
    if trials_per_task < 2:
        raise ValueError(
            "centring over each task's trials needs at least 2 trials per task; "
            f"got {trials_per_task} (use more trials, or pass centred=False to "
            "compare the raw vectors)"
        )


def _centred_over_trials(grouped: torch.Tensor, trial_axis: int) -> torch.Tensor:
    """Subtract the mean over the trials of each task (``trial_axis``)."""
    _check_trials_for_centring(grouped.shape[trial_axis])
    return grouped - grouped.mean(dim=trial_axis, keepdim=True)


def own_term_alignment(terms: torch.Tensor) -> torch.Tensor:
    """Cosine of every term with its row's diagonal term: ``cos(v[k, l], v[k, k])``.

    Args:
        terms: ``[L, L, ...]``; ``terms[k, l]`` is what task ``l`` does to
            task ``k`` (any trailing shape, compared as one flat vector).

    Returns:
        ``[L, L]``, ones on the diagonal; 0 where a term or its row's own term
        is zero.

    Raises:
        ValueError: If ``terms`` is not ``[L, L, ...]``.
    """
    check_tensor("terms", terms)
    if terms.dim() < 3 or terms.shape[0] != terms.shape[1]:
        raise ValueError(
            "terms must have shape [L, L, ...] (task pushed, task pushing, the "
            f"push); got {format_shape(terms.shape)}"
        )
    L = terms.shape[0]
    flat = terms.flatten(start_dim=2)  # [L, L, n]
    size = flat.norm(dim=-1)
    own = flat[torch.arange(L), torch.arange(L)]  # [L, n]
    inner = (flat * own[:, None]).sum(dim=-1)
    scale = size * size.diagonal()[:, None]
    return torch.where(scale > 0, inner / scale, torch.zeros_like(inner))


def task_similarity(
    hidden: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: slice | None = None,
    centred: bool = True,
) -> torch.Tensor:
    r"""Cosine similarity of the hidden states of every pair of tasks.

    Trials are compared in matched order: the ``i``-th trial of task ``k``
    with the ``i``-th trial of task ``l``, which in the multitask evaluation
    batch have the same stimulus angle. The states of each task over those
    trials, the chosen steps and all units form one long vector.

    .. math::

        S_{kl} = \frac{\langle \tilde z_k, \tilde z_l \rangle}
            {\|\tilde z_k\|\, \|\tilde z_l\|},

    with :math:`\tilde z_k` task ``k``'s states centred over its own trials
    (see the module docstring), or the raw states when ``centred=False``.

    Args:
        hidden: ``[B, T, H]``, e.g. a snapshot's ``.hidden``.
        labels: ``[B]`` task index of each trial (``batch.labels``).
        steps: Time steps to compare (a slice), all by default; e.g. leave out
            the context period, where the task cue itself differs.
        centred: Subtract each task's mean over its own trials, at each step
            and unit, so that only how a task encodes the stimulus angle
            counts (the default, and the course's convention). False compares
            the raw states, where the activity shared by all trials dominates.

    Returns:
        ``[L, L]`` similarities in ``[-1, 1]``, ones on the diagonal.

    Raises:
        ValueError: If the shapes do not match, the tasks have different
            numbers of trials, a task has one trial and ``centred`` is set, or
            a task's (centred) states are all zero on these steps.
    """
    check_tensor("hidden", hidden)
    if hidden.dim() != 3:
        raise ValueError(
            f"hidden must have shape [B, T, H]; got {format_shape(hidden.shape)}"
        )
    labels, num_tasks = _check_labels(labels, hidden.shape[0])
    window = _steps_window(steps, hidden.shape[1])
    states = _by_task(hidden.detach()[:, window], labels, num_tasks)  # [L, n, T', H]
    if centred:
        states = _centred_over_trials(states, trial_axis=1)
    vectors = states.flatten(start_dim=1)  # [L, n * T' * H]
    norms = vectors.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        what = "do not vary over its trials" if centred else "are all zero"
        raise ValueError(f"a task's hidden states {what} on these steps")
    vectors = vectors / norms
    return vectors @ vectors.T


@dataclass(frozen=True)
class TaskInterference:
    """Which task's error moves which task's hidden states, and which way.

    Attributes:
        label_names: The task of each row and column.
        alignment: ``[L, L]``; ``[k, l]`` is the cosine between
            ``P_k K_kl P_l* e_l`` and ``P_k K_kk P_k* e_k`` (both centred
            over task ``k``'s trials when ``centred``): positive when task
            ``l``'s error moves task ``k`` the way task ``k``'s own error
            does. Ones on the diagonal.
        size: ``[L, L]``; ``[k, l]`` is ``||P_k K_kl P_l* e_l||`` (centred
            when ``centred``), the size of the push per unit learning rate.
        pushes: ``[L, L, B / L, T', H]``; ``[k, l]`` is ``P_k K_kl P_l* e_l``
            itself, not centred, on task ``k``'s trials and the chosen steps,
            so that ``dz_{k<-l} = -eta * pushes[k, l]`` and
            ``pushes[k].sum(0)`` is task ``k``'s part of ``P K P* e``.
        centred: Whether ``alignment`` and ``size`` compare centred pushes.
    """

    label_names: tuple[str, ...]
    alignment: torch.Tensor
    size: torch.Tensor
    pushes: torch.Tensor
    centred: bool = True

    @property
    def compared(self) -> torch.Tensor:
        """The pushes as ``alignment`` and ``size`` compare them ``[L, L, B/L, T', H]``.

        Centred over each task ``k``'s trials when ``centred``, else ``pushes``.
        """
        if not self.centred:
            return self.pushes
        return _centred_over_trials(self.pushes, trial_axis=2)


def task_interference(
    model: RecurrentModel,
    task: Task,
    batch: EvaluationBatch,
    *,
    steps: slice | None = None,
    centred: bool = True,
) -> TaskInterference:
    r"""The operator measure of how the tasks' gradient steps interact.

    For every pair of tasks ``(k, l)`` this computes the part of one gradient
    step's change of task ``k``'s hidden states that task ``l``'s error
    causes, :math:`P_k K_{kl} P_l^* e_l` (up to ``-eta``), and compares it
    with task ``k``'s own term.

    Args:
        model: The model at the snapshot of interest.
        task: The multitask task (supplies the loss).
        batch: Its evaluation batch (``task.evaluation_batch(dtype=...)``),
            with ``labels``; in the model's dtype and device.
        steps: Time steps over which the pushes are compared, all by default.
        centred: Compare the pushes centred over task ``k``'s trials (the
            default, as :func:`task_similarity` centres the hidden states);
            False compares the raw pushes, including the part that is the
            same on all of task ``k``'s trials.

    Returns:
        A :class:`TaskInterference`.

    Raises:
        ValueError: If the batch has no labels, does not fit the model, or
            has one trial per task and ``centred`` is set.

    Notes:
        ``e_l`` is the readout error restricted to task ``l``'s trials. One
        application of ``P K P*`` to a block of ``L`` probes (one per task):
        about ``L`` times (one K and two P matvecs).
    """
    inputs, targets = batch.inputs, batch.targets
    labels, num_tasks = _check_labels(batch.labels, inputs.shape[0])
    window = _steps_window(steps, inputs.shape[1])
    if centred:
        _check_trials_for_centring(inputs.shape[0] // num_tasks)
    with torch.no_grad():
        _, hidden = model(inputs)
    error = readout_error(model, task, inputs, targets, hidden)  # [B, T, H]
    operators = kpflow_operators(model.cell, inputs, hidden)

    # One probe per task: its error on its own trials, zero elsewhere.
    masks = torch.stack([labels == k for k in range(num_tasks)]).to(error.device)
    probes = error.unsqueeze(0) * masks[:, :, None, None]  # [L, B, T, H]
    pushes = operators.hidden_ntk.matvec(probes)[:, :, window]  # [L(from), B, T', H]

    # by_task[k, l]: task k's trials of the push caused by task l's error.
    by_task = torch.stack([pushes[:, masks[k]] for k in range(num_tasks)])
    compared = _centred_over_trials(by_task, trial_axis=2) if centred else by_task
    names = batch.label_names or tuple(str(k) for k in range(num_tasks))
    return TaskInterference(
        label_names=tuple(names),
        alignment=own_term_alignment(compared),
        size=compared.flatten(start_dim=2).norm(dim=-1),
        pushes=by_task,
        centred=centred,
    )
