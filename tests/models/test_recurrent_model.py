"""RecurrentModel: the cell contract, the fused path, seeding, validation."""

import pytest
import torch
from torch import nn

from kpwidgets.models import ARCHITECTURES, LeakyRNNCell, LSTMCellFlat, RecurrentModel

B, T, INPUTS, H, OUTPUTS = 3, 6, 2, 5, 4


def make_model(architecture, **kwargs):
    return RecurrentModel(architecture, INPUTS, H, OUTPUTS, seed=0, **kwargs).double()


def random_batch(model, seed=1):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(B, T, INPUTS, generator=generator, dtype=torch.float64)
    h0 = torch.randn(B, model.state_size, generator=generator, dtype=torch.float64)
    return inputs, h0


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_hidden_follows_the_cell_contract(architecture):
    model = make_model(architecture, init_scale=1.5)
    inputs, h0 = random_batch(model)
    outputs, hidden = model(inputs, h0)
    assert outputs.shape == (B, T, OUTPUTS)
    assert hidden.shape == (B, T, model.state_size)
    previous = torch.cat([h0[:, None], hidden[:, :-1]], dim=1)
    with torch.no_grad():
        for t in range(T):
            expected = model.cell(inputs[:, t], previous[:, t])
            torch.testing.assert_close(hidden[:, t], expected)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_fused_path_equals_cell_loop_with_gradients(architecture):
    model = make_model(architecture, init_scale=1.3)
    inputs, h0 = random_batch(model)

    def run(fused):
        model.zero_grad()
        outputs, hidden = model(inputs, h0, fused=fused)
        (outputs.square().sum() + hidden.sin().sum()).backward()
        grads = [p.grad.clone() for p in model.parameters()]
        return outputs.detach(), hidden.detach(), grads

    fused, loop = run(True), run(False)
    torch.testing.assert_close(fused[0], loop[0])
    torch.testing.assert_close(fused[1], loop[1])
    for fused_grad, loop_grad in zip(fused[2], loop[2], strict=True):
        torch.testing.assert_close(fused_grad, loop_grad)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_outputs_equal_forward(architecture):
    model = make_model(architecture)
    inputs, h0 = random_batch(model)
    torch.testing.assert_close(model.outputs(inputs, h0), model(inputs, h0)[0])


def test_default_h0_is_zeros():
    model = make_model("gru")
    inputs, _ = random_batch(model)
    zeros = torch.zeros(B, H, dtype=torch.float64)
    torch.testing.assert_close(model(inputs)[1], model(inputs, zeros)[1])


def test_cells_are_the_expected_modules():
    assert type(make_model("rnn").cell) is nn.RNNCell
    assert make_model("rnn").cell.nonlinearity == "tanh"
    assert type(make_model("gru").cell) is nn.GRUCell
    assert isinstance(make_model("lstm").cell, LSTMCellFlat)
    assert isinstance(make_model("ctrnn").cell, LeakyRNNCell)
    assert isinstance(make_model("ctrnn").readout, nn.Linear)


def test_lstm_state_is_h_then_c_and_readout_reads_h():
    model = make_model("lstm")
    assert model.state_size == 2 * H
    inputs, h0 = random_batch(model)
    outputs, hidden = model(inputs, h0)
    torch.testing.assert_close(outputs, model.readout(hidden[..., :H]))

    h, c = model.cell.lstm(inputs[:, 0], (h0[:, :H], h0[:, H:]))
    torch.testing.assert_close(hidden[:, 0], torch.cat([h, c], dim=-1))


def test_ctrnn_step_is_the_euler_step_of_the_leaky_ode():
    model = make_model("ctrnn", dt=2.0, tau=8.0)
    cell = model.cell
    assert cell.alpha == 0.25
    inputs, h0 = random_batch(model)
    x, z = inputs[:, 0], h0
    drive = torch.tanh(z) @ cell.weight_hh.T + x @ cell.weight_ih.T + cell.bias
    torch.testing.assert_close(cell(x, z), 0.75 * z + 0.25 * drive)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_same_seed_gives_bit_identical_weights(architecture):
    first = RecurrentModel(architecture, INPUTS, H, OUTPUTS, seed=7).state_dict()
    second = RecurrentModel(architecture, INPUTS, H, OUTPUTS, seed=7).state_dict()
    other = RecurrentModel(architecture, INPUTS, H, OUTPUTS, seed=8).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_seeded_init_leaves_the_global_generator_alone():
    state = torch.random.get_rng_state()
    RecurrentModel("gru", INPUTS, H, OUTPUTS, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_unseeded_init_follows_torch_manual_seed_and_records_the_seed():
    torch.manual_seed(11)
    first = RecurrentModel("rnn", INPUTS, H, OUTPUTS)
    torch.manual_seed(11)
    second = RecurrentModel("rnn", INPUTS, H, OUTPUTS)
    assert first.seed == second.seed
    assert torch.equal(first.cell.weight_hh, second.cell.weight_hh)
    rebuilt = RecurrentModel.from_config(first.config)
    assert torch.equal(rebuilt.cell.weight_hh, first.cell.weight_hh)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_init_scale_multiplies_only_the_recurrent_matrix(architecture):
    plain = RecurrentModel(architecture, INPUTS, H, OUTPUTS, seed=2)
    scaled = RecurrentModel(architecture, INPUTS, H, OUTPUTS, seed=2, init_scale=2.5)
    torch.testing.assert_close(scaled.recurrent_weight, 2.5 * plain.recurrent_weight)
    for (name, value), other in zip(
        plain.named_parameters(), scaled.parameters(), strict=True
    ):
        if value is not plain.recurrent_weight:
            assert torch.equal(value, other), name


def test_ctrnn_recurrent_weights_have_variance_g_squared_over_h():
    model = RecurrentModel("ctrnn", INPUTS, 400, OUTPUTS, seed=0, init_scale=1.5)
    variance = model.recurrent_weight.var().item()
    assert variance == pytest.approx(1.5**2 / 400, rel=0.05)


def test_config_round_trip_and_repr():
    model = RecurrentModel(
        "ctrnn", INPUTS, H, OUTPUTS, init_scale=0.5, seed=4, tau=10.0
    )
    rebuilt = RecurrentModel.from_config(model.config)
    assert rebuilt.config == model.config
    for name, value in model.state_dict().items():
        assert torch.equal(value, rebuilt.state_dict()[name])
    assert "architecture='ctrnn'" in repr(model) and "tau=10" in repr(model)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"architecture": "xyz"},
            r"architecture must be one of 'rnn', 'gru', 'lstm', 'ctrnn'; got 'xyz'",
        ),
        ({"input_size": 0}, r"input_size must be a positive integer; got 0"),
        ({"hidden_size": 2.5}, r"hidden_size must be a positive integer; got 2.5"),
        ({"output_size": True}, r"output_size must be a positive integer; got True"),
        ({"init_scale": -1.0}, r"init_scale must be a finite number in \[0, inf\]"),
        ({"init_scale": float("nan")}, r"init_scale must be a finite number"),
        ({"seed": -3}, r"seed must be a non-negative integer; got -3"),
        ({"dt": 0.1}, r"unknown option 'dt' for architecture 'gru'; it takes no"),
    ],
)
def test_invalid_arguments_raise(kwargs, message):
    arguments = {
        "architecture": "gru",
        "input_size": INPUTS,
        "hidden_size": H,
        "output_size": OUTPUTS,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        RecurrentModel(**arguments)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"alpha": 0.1}, r"unknown option 'alpha' for architecture 'ctrnn'; "),
        ({"dt": 0.0}, r"dt must be a finite number in \(0, inf\]; got 0.0"),
        ({"tau": -1}, r"tau must be a finite number in \(0, inf\]"),
        ({"dt": 2.0, "tau": 1.0}, r"ctrnn needs dt <= tau .* got dt=2, tau=1"),
    ],
)
def test_invalid_ctrnn_options_raise(options, message):
    with pytest.raises(ValueError, match=message):
        RecurrentModel("ctrnn", INPUTS, H, OUTPUTS, **options)


@pytest.mark.parametrize(
    ("inputs", "h0", "message"),
    [
        (torch.zeros(B, T, 3), None, r"inputs must have shape \[B, T, I\] with I = 2"),
        (
            torch.zeros(T, INPUTS),
            None,
            r"inputs must have shape \[B, T, I\].*got \[6, 2\]",
        ),
        ([[0.0]], None, r"inputs must be a torch.Tensor; got list"),
        (
            torch.zeros(B, T, INPUTS, dtype=torch.float64),
            None,
            r"inputs must have dtype",
        ),
        (
            torch.zeros(B, T, INPUTS),
            torch.zeros(B, 4),
            r"h0 must have shape \[B, H\] with",
        ),
        (torch.zeros(B, T, INPUTS), torch.zeros(2, H), r"B = 3, H = 5; got \[2, 5\]"),
    ],
)
def test_invalid_inputs_raise(inputs, h0, message):
    model = RecurrentModel("gru", INPUTS, H, OUTPUTS, seed=0)
    with pytest.raises(ValueError, match=message):
        model(inputs, h0)
