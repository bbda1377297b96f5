"""Tasks the course trains on: the Memory-Pro family, flip-flop, multitask.

Build one by name with :func:`make_task`; see each options class for what can
be changed.
"""

from __future__ import annotations

import dataclasses

from kpwidgets._validation import check_choice, check_options
from kpwidgets.tasks._base import EvaluationBatch, Task
from kpwidgets.tasks.angle import AngleTask, AngleTaskOptions, MultitaskOptions
from kpwidgets.tasks.flip_flop import FlipFlopOptions, FlipFlopTask

TASKS = (
    "memory_pro",
    "memory_anti",
    "delay_pro",
    "delay_anti",
    "flip_flop",
    "multitask",
)


def make_task(name: str, **options: object) -> Task:
    """Build a task by name.

    Args:
        name: One of :data:`TASKS`.
        **options: Fields of the task's options dataclass
            (:class:`AngleTaskOptions`, :class:`MultitaskOptions` or
            :class:`FlipFlopOptions`); the rest keep their defaults.

    Returns:
        The task.

    Raises:
        ValueError: For an unknown name or option, or an out-of-range value.

    Example:
        >>> task = make_task("memory_pro", memory_steps=10)
        >>> task.num_steps, task.input_size, task.output_size
        (70, 3, 3)
    """
    check_choice("name", name, TASKS)
    if name == "flip_flop":
        options_class = FlipFlopOptions
    elif name == "multitask":
        options_class = MultitaskOptions
    else:
        options_class = AngleTaskOptions
    allowed = [field.name for field in dataclasses.fields(options_class)]
    check_options(f"task {name!r}", options, allowed)
    if name == "flip_flop":
        return FlipFlopTask(options_class(**options))
    return AngleTask(name, options_class(**options))


__all__ = [
    # building tasks
    "make_task",
    "TASKS",
    # task classes
    "Task",
    "AngleTask",
    "FlipFlopTask",
    "EvaluationBatch",
    # options
    "AngleTaskOptions",
    "MultitaskOptions",
    "FlipFlopOptions",
]
