"""train() and TrainingRun: learning, determinism, stop, divergence, files, cache."""

import logging
import math
import threading

import pytest
import torch

from kpwidgets.models import ARCHITECTURES, RecurrentModel
from kpwidgets.tasks import make_task
from kpwidgets.training import (
    TrainingRun,
    cache_dir,
    clear_cache,
    resolve_device,
    train,
)

H = 8
SHORT = {"stimulus_steps": 5, "memory_steps": 5, "response_steps": 10}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small GEMMs crawl when two threads share two busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KPWIDGETS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KPWIDGETS_CACHE", raising=False)


@pytest.fixture
def task():
    return make_task("memory_pro", grace_steps=2, input_noise=0.05, **SHORT)


def small_model(architecture="gru", seed=0, **kwargs):
    return RecurrentModel(architecture, 3, H, 3, seed=seed, **kwargs)


def quick_run(task, model=None, steps=12, **kwargs):
    arguments = {"lr": 1e-2, "batch_size": 8, "seed": 0, "snapshot_every": 5}
    return train(model or small_model(), task, steps, **{**arguments, **kwargs})


def assert_same_state(first, second):
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_learns_memory_pro(architecture, task):
    # The tanh RNN needs a larger recurrent gain to carry the memory at all.
    init_scale = 2.0 if architecture == "rnn" else 1.0
    steps = 300 if architecture == "rnn" else 200
    model = RecurrentModel(architecture, 3, 32, 3, init_scale=init_scale, seed=0)
    run = train(model, task, steps, 1e-2, batch_size=32, clip=1.0, seed=0)
    first, last = sum(run.losses[:5]) / 5, sum(run.losses[-10:]) / 10
    assert run.status == "finished"
    assert first / last > 10, f"loss fell only {first / last:.1f}x"
    assert run.snapshots[-1].accuracy < 20  # degrees, on the evaluation batch


def test_run_records_losses_metrics_and_snapshots(task):
    model = small_model()
    run = quick_run(task, model)
    assert run.status == "finished" and run.steps_completed == 12
    assert len(run.losses) == 12 and all(math.isfinite(x) for x in run.losses)
    assert {name: len(values) for name, values in run.metrics.items()} == {
        "grad_norm": 12,
        "accuracy": 12,
        "elapsed": 12,
    }
    assert [snapshot.step for snapshot in run.snapshots] == [0, 5, 10, 12]
    assert run.snapshots[0].hidden.shape == (32, task.num_steps, H)
    assert_same_state(run.snapshots[-1].state_dict, model.state_dict())
    assert run.message.startswith("finished: 12 steps in ")
    assert run.name == "gru-8" and run.device == "cpu"
    assert run.config["task"] == task.config and run.config["seed"] == 0


def test_snapshot_hidden_states_are_the_models_on_the_evaluation_batch(task):
    run = quick_run(task)
    model = run.build_model(snapshot=1)
    _, hidden = model(run.evaluation.inputs)
    assert torch.equal(hidden, run.snapshots[1].hidden)


def test_same_seed_is_bit_identical_and_another_seed_is_not(task):
    first = quick_run(task, cache=False)
    second = quick_run(task, cache=False)
    other = quick_run(task, seed=1, cache=False)
    assert first.losses == second.losses
    assert_same_state(first.snapshots[-1].state_dict, second.snapshots[-1].state_dict)
    assert torch.equal(first.snapshots[-1].hidden, second.snapshots[-1].hidden)
    assert first.losses != other.losses


def test_callback_streams_metrics_and_snapshots(task):
    seen = []
    run = quick_run(task, callback=lambda step, metrics: seen.append((step, metrics)))
    assert [step for step, _ in seen] == list(range(1, 13))
    assert seen[0][1].keys() >= {"loss", "grad_norm", "accuracy", "elapsed"}
    assert seen[0][1]["loss"] == run.losses[0]
    with_snapshots = [step for step, metrics in seen if "snapshot" in metrics]
    assert with_snapshots == [5, 10, 12]
    assert seen[4][1]["snapshot"] is run.snapshots[1]
    assert seen[4][1]["eval_loss"] == run.snapshots[1].loss


def test_stop_event_set_by_the_callback_stops_after_that_step(task):
    stop = threading.Event()
    model = small_model()

    def stop_at_seven(step, metrics):
        if step == 7:
            stop.set()

    run = quick_run(task, model, steps=50, callback=stop_at_seven, stop_event=stop)
    assert run.status == "stopped" and run.steps_completed == 7
    assert run.message == "stopped at step 7"
    assert [snapshot.step for snapshot in run.snapshots] == [0, 5, 7]
    assert_same_state(run.snapshots[-1].state_dict, model.state_dict())


def test_stop_from_another_thread(task):
    stop, results = threading.Event(), []

    def slow_callback(step, metrics):
        if step == 3:
            stop.set()

    worker = threading.Thread(
        target=lambda: results.append(
            quick_run(task, steps=1000, callback=slow_callback, stop_event=stop)
        )
    )
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert results[0].status == "stopped" and results[0].steps_completed == 3


def test_huge_learning_rate_diverges_without_raising(task, caplog):
    model = small_model()
    with caplog.at_level(logging.WARNING, logger="kpwidgets.training"):
        run = quick_run(task, model, steps=100, lr=1e3, optimizer="sgd")
    assert run.status == "diverged" and run.diverged_step <= 100
    assert run.message.startswith(f"diverged at step {run.diverged_step} (")
    assert run.message.endswith("): lower the learning rate")
    assert "diverged" in caplog.text
    assert all(torch.isfinite(s.hidden).all() for s in run.snapshots)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert_same_state(run.snapshots[-1].state_dict, model.state_dict())


def test_nan_loss_ends_the_run_and_restores_the_last_finite_parameters(task):
    model = small_model()

    def poison(step, metrics):
        if step == 6:
            with torch.no_grad():
                model.readout.bias.fill_(float("nan"))

    run = quick_run(task, model, steps=20, callback=poison)
    assert run.status == "diverged" and run.diverged_step == 7
    assert run.divergence_reason == "loss became nan"
    assert run.steps_completed == 6
    assert [snapshot.step for snapshot in run.snapshots] == [0, 5]
    assert_same_state(run.snapshots[-1].state_dict, model.state_dict())


def test_non_finite_start_is_reported_as_divergence(task):
    model = small_model()
    with torch.no_grad():
        model.cell.weight_hh.fill_(float("inf"))
    run = quick_run(task, model)
    assert run.status == "diverged" and run.diverged_step == 0
    assert run.snapshots == [] and "not finite at the start" in run.message


def test_save_and_load_round_trip(task, tmp_path):
    run = quick_run(task)
    path = run.save(tmp_path / "runs" / "run.pt")
    loaded = TrainingRun.load(path)
    assert loaded.config == run.config and loaded.status == run.status
    assert loaded.losses == run.losses and loaded.metrics == run.metrics
    assert loaded.message.split(" in ")[0] == run.message.split(" in ")[0]
    for ours, theirs in zip(run.snapshots, loaded.snapshots, strict=True):
        assert ours.step == theirs.step and ours.loss == theirs.loss
        assert torch.equal(ours.hidden, theirs.hidden)
        assert_same_state(ours.state_dict, theirs.state_dict)
    assert torch.equal(loaded.evaluation.angles, run.evaluation.angles)
    assert loaded.build_task().config == task.config
    model = loaded.build_model()
    assert torch.equal(model(run.evaluation.inputs)[1], run.snapshots[-1].hidden)


def test_corrupt_files_raise_clear_errors(task, tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a run")
    with pytest.raises(ValueError, match=r"is not a readable kpwidgets training run"):
        TrainingRun.load(garbage)

    truncated = tmp_path / "truncated.pt"
    whole = quick_run(task).save(tmp_path / "whole.pt").read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ValueError, match=r"is not a readable kpwidgets training run"):
        TrainingRun.load(truncated)

    with pytest.raises(FileNotFoundError, match=r"no training run file at"):
        TrainingRun.load(tmp_path / "missing.pt")


def test_mismatched_files_raise_clear_errors(task, tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ValueError, match=r"is not a kpwidgets training run"):
        TrainingRun.load(other)

    newer = tmp_path / "newer.pt"
    torch.save({"format": "kpwidgets.TrainingRun", "format_version": 99}, newer)
    with pytest.raises(ValueError, match=r"has run file format 99; this kpwidgets"):
        TrainingRun.load(newer)

    damaged = tmp_path / "damaged.pt"
    torch.save({"format": "kpwidgets.TrainingRun", "format_version": 1}, damaged)
    with pytest.raises(ValueError, match=r"is a damaged kpwidgets training run"):
        TrainingRun.load(damaged)

    run = quick_run(task)
    with pytest.raises(ValueError, match=r"model must match the run's model"):
        run.restore(small_model("rnn"))


def test_cache_reuses_finished_runs(task):
    first = quick_run(task)
    model = small_model()
    second = quick_run(task, model)
    assert not first.from_cache and second.from_cache
    assert second.losses == first.losses
    assert second.message.endswith("(from cache)")
    assert_same_state(model.state_dict(), first.snapshots[-1].state_dict)
    assert len(list((cache_dir() / "runs").glob("*.pt"))) == 1

    assert clear_cache() == 1
    assert not quick_run(task).from_cache


def test_cache_key_covers_the_configuration(task):
    quick_run(task)
    assert not quick_run(task, lr=2e-2).from_cache
    assert not quick_run(task, small_model(init_scale=1.5)).from_cache
    assert not quick_run(make_task("delay_pro", **SHORT)).from_cache


def test_cache_can_be_turned_off(task, monkeypatch):
    quick_run(task, cache=False)
    quick_run(task, seed=None)
    monkeypatch.setenv("KPWIDGETS_CACHE", "off")
    quick_run(task)
    assert not (cache_dir() / "runs").exists()


def test_unreadable_cache_entry_is_retrained(task, caplog):
    quick_run(task)
    (entry,) = (cache_dir() / "runs").glob("*.pt")
    entry.write_bytes(b"broken")
    with caplog.at_level(logging.WARNING, logger="kpwidgets.training"):
        run = quick_run(task)
    assert not run.from_cache and "ignoring unreadable cached run" in caplog.text
    assert TrainingRun.load(entry).losses == run.losses


def test_training_never_prints(task, capsys):
    quick_run(task, steps=3, lr=1e3, optimizer="sgd")
    assert capsys.readouterr().out == ""


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available() and not torch.backends.mps.is_available():
        assert resolve_device() == torch.device("cpu")
    with pytest.raises(ValueError, match=r"device must be a torch.device or a name"):
        resolve_device("banana")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, r"steps must be a positive integer; got 0"),
        ({"lr": 0.0}, r"lr must be a finite number in \(0, inf\]; got 0.0"),
        ({"lr": float("nan")}, r"lr must be a finite number"),
        ({"optimizer": "rmsprop"}, r"optimizer must be one of 'adam', 'sgd'; got"),
        ({"batch_size": 0}, r"batch_size must be a positive integer; got 0"),
        ({"clip": -1.0}, r"clip must be a finite number in \(0, inf\]; got -1.0"),
        ({"snapshot_every": 0}, r"snapshot_every must be a positive integer"),
        ({"seed": -1}, r"seed must be a non-negative integer; got -1"),
        ({"device": "banana"}, r"device must be a torch.device or a name"),
        (
            {"task": "flip_flop"},
            r"model input_size must match the task's \(2 for 'flip_flop'\); got 3",
        ),
    ],
)
def test_invalid_arguments_raise(task, kwargs, message):
    arguments = {"model": small_model(), "task": task, "steps": 5, "lr": 1e-2}
    arguments.update(kwargs)
    if arguments["task"] == "flip_flop":
        arguments["task"] = make_task("flip_flop", num_bits=2, num_steps=5)
    with pytest.raises(ValueError, match=message):
        train(**arguments)


def test_wrong_types_raise(task):
    with pytest.raises(TypeError, match=r"model must be a kpwidgets.models"):
        train(torch.nn.GRU(3, 4), task, 5, 1e-2)
    with pytest.raises(TypeError, match=r"task must be a kpwidgets.tasks.Task"):
        train(small_model(), "memory_pro", 5, 1e-2)
