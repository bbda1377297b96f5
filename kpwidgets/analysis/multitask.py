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


def task_similarity(
    hidden: torch.Tensor,
    labels: torch.Tensor,
    *,
    steps: slice | None = None,
    centred: bool = False,
) -> torch.Tensor:
    """Cosine similarity of the hidden states of every pair of tasks.

    Trials are compared in matched order: the ``i``-th trial of task ``k``
    with the ``i``-th trial of task ``l``, which in the multitask evaluation
    batch have the same stimulus angle. The states of each task over those
    trials, the chosen steps and all units form one long vector.

    Args:
        hidden: ``[B, T, H]``, e.g. a snapshot's ``.hidden``.
        labels: ``[B]`` task index of each trial (``batch.labels``).
        steps: Time steps to compare (a slice), all by default; e.g. leave out
            the context period, where the task cue itself differs.
        centred: Subtract the mean over all trials at each step and unit
            first, so only task- and angle-specific activity counts.

    Returns:
        ``[L, L]`` similarities in ``[-1, 1]``, ones on the diagonal.

    Raises:
        ValueError: If the shapes do not match or the tasks have different
            numbers of trials.
    """
    check_tensor("hidden", hidden)
    if hidden.dim() != 3:
        raise ValueError(
            f"hidden must have shape [B, T, H]; got {format_shape(hidden.shape)}"
        )
    labels, num_tasks = _check_labels(labels, hidden.shape[0])
    window = _steps_window(steps, hidden.shape[1])
    states = hidden.detach()[:, window]  # [B, T', H]
    if centred:
        states = states - states.mean(dim=0, keepdim=True)
    labels = labels.to(states.device)
    vectors = torch.stack([states[labels == k].flatten() for k in range(num_tasks)])
    norms = vectors.norm(dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError("a task's hidden states are all zero on these steps")
    vectors = vectors / norms
    return vectors @ vectors.T


@dataclass(frozen=True)
class TaskInterference:
    """Which task's error moves which task's hidden states, and which way.

    Attributes:
        label_names: The task of each row and column.
        alignment: ``[L, L]``; ``[k, l]`` is the cosine between
            ``P_k K_kl P_l* e_l`` and ``P_k K_kk P_k* e_k``: positive when
            task ``l``'s error moves task ``k`` the way task ``k``'s own error
            does. Ones on the diagonal.
        size: ``[L, L]``; ``[k, l]`` is ``||P_k K_kl P_l* e_l||``, the size of
            the push (per unit learning rate).
        pushes: ``[L, L, B / L, T', H]``; ``[k, l]`` is ``P_k K_kl P_l* e_l``
            itself, on task ``k``'s trials and the chosen steps, so that
            ``dz_{k<-l} = -eta * pushes[k, l]`` and ``pushes[k].sum(0)`` is
            task ``k``'s part of ``P K P* e``.
    """

    label_names: tuple[str, ...]
    alignment: torch.Tensor
    size: torch.Tensor
    pushes: torch.Tensor


def task_interference(
    model: RecurrentModel,
    task: Task,
    batch: EvaluationBatch,
    *,
    steps: slice | None = None,
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

    Returns:
        A :class:`TaskInterference`.

    Raises:
        ValueError: If the batch has no labels or does not fit the model.

    Notes:
        ``e_l`` is the readout error restricted to task ``l``'s trials. One
        application of ``P K P*`` to a block of ``L`` probes (one per task):
        about ``L`` times (one K and two P matvecs).
    """
    inputs, targets = batch.inputs, batch.targets
    labels, num_tasks = _check_labels(batch.labels, inputs.shape[0])
    window = _steps_window(steps, inputs.shape[1])
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
    terms = by_task.flatten(start_dim=2)  # [L(to), L(from), n]
    size = terms.norm(dim=-1)
    own = terms[torch.arange(num_tasks), torch.arange(num_tasks)]  # [L, n]
    inner = (terms * own[:, None]).sum(dim=-1)
    scale = size * size.diagonal()[:, None]
    alignment = torch.where(scale > 0, inner / scale, torch.zeros_like(inner))
    names = batch.label_names or tuple(str(k) for k in range(num_tasks))
    return TaskInterference(tuple(names), alignment, size, by_task)
