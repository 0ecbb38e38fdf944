"""The sweep spec: options, grid, targets, trials (no training)."""

import pytest

from toolkit.errors import ToolkitError
from toolkit.sweep.spec import OPTIONS, parse_spec, sample, trial_id

BASE = 'function = "sin"\nepochs = 5\nboard = ["arduino-uno"]\n'


def test_grid_product_and_targets():
    spec = parse_spec('function = "sin"\nepochs = 20\nseed = 1\n[grid]\nhidden = ["4,4", "8,8"]\n'
                      'board = ["arduino-uno", "arduino-nano-33-ble"]\n')
    trials = spec.trials()
    assert [t.params["hidden"] for t in trials] == ["4,4", "8,8"]
    assert all(t.params["epochs"] == 20 and t.params["seed"] == 1 for t in trials)
    assert [(t.name, t.arch) for t in spec.targets] == [("arduino-uno", "atmega328p"), ("arduino-nano-33-ble", "cortex-m4")]
    assert spec.targets[0].board.ram == 2048


def test_defaults_filled_and_unused_options_dropped():
    spec = parse_spec(BASE + '[grid]\nprune = ["none", "weight", "structured"]\nsparsity = [0.5, 0.8]\n')
    trials = spec.trials()
    assert spec.grid_points == 6 and len(trials) == 5  # the unpruned model is one trial, whatever the sparsity
    unpruned = trials[0].params
    assert unpruned["prune"] == "none" and "sparsity" not in unpruned and "finetune_epochs" not in unpruned
    weight = next(t.params for t in trials if t.params["prune"] == "weight")
    assert weight["scope"] == "layer" and "criterion" not in weight
    structured = next(t.params for t in trials if t.params["prune"] == "structured")
    assert structured["criterion"] == "l2" and "scope" not in structured
    assert unpruned["lr"] == 0.01 and unpruned["quantization"] == "int8" and unpruned["per_tensor"] is False


def test_trial_ids_are_stable_and_canonical():
    a = parse_spec(BASE + '[grid]\nhidden = ["8, 8", [4, 4]]\nteacher_hidden = ["none", "32,32"]\n').trials()
    b = parse_spec(BASE.replace('epochs = 5', 'epochs = 5\nseed = 0') + '[grid]\nteacher_hidden = ["32,32", "none"]\n'
                   'hidden = [[4, 4], "8,8"]\n').trials()
    assert {t.id for t in a} == {t.id for t in b}  # order of the grid and spelling do not matter
    assert {t.params["hidden"] for t in a} == {"8,8", "4,4"}
    assert trial_id(a[0].params) == a[0].id and a[0].id.startswith("t") and len(a[0].id) == 11


def test_sampling_is_seeded_and_in_grid_order():
    trials = parse_spec(BASE + '[grid]\nhidden = ["2,2", "4,4", "8,8", "16,16"]\nseed = [0, 1, 2]\n').trials()
    picked = sample(trials, 5, seed=3)
    assert picked == sample(trials, 5, seed=3) and len(picked) == 5
    assert [t.index for t in picked] == sorted(t.index for t in picked)
    assert sample(trials, 50, seed=3) == trials


@pytest.mark.parametrize("text, message", [
    (BASE + "hiden = '4,4'\n", "unknown option 'hiden'"),
    (BASE + "[grid]\nepochs = 5\n", "'epochs' is both fixed and in [grid]"),
    (BASE + "[grid]\nhidden = []\n", "grid.hidden: expected a non-empty list"),
    (BASE + "[grid]\nhidden = '4,4'\n", "grid.hidden: expected a non-empty list"),
    (BASE + "[grid]\nprune = ['weight', 'magnitude']\n", "prune: 'magnitude' is not one of none, weight, neuron, structured"),
    (BASE + "[grid]\nsparsity = [0.5, 1.0]\n", "sparsity: 1.0 must be in [0, 1)"),
    (BASE + "[grid]\nquantization = ['int4']\n", "quantization: 'int4' is not one of int8, float32, float16"),
    (BASE + "hidden = '4,x'\n", "hidden: --hidden takes layer widths"),
    ("function = '__import__(\"os\")'\nboard = 'arduino-uno'\n", "function:"),
    ("epochs = 'ten'\nboard = 'arduino-uno'\n", "epochs: expected int, got 'ten'"),
    (BASE + "per_tensor = 1\n", "per_tensor: expected bool"),
    ('function = "sin"\n', "no target: add board = [...] or arch = [...]"),
    ('board = ["esp32"]\n', "esp32 (ESP32) has no local compiler or emulator"),
    ('board = ["nope"]\n', "unknown board 'nope'"),
    ('arch = ["z80"]\n', "arch:"),
    ('board = "arduino-uno"\n[grid]\nboard = ["arduino-uno"]\n', "'board' is both fixed and in [grid]"),
    ('board = ["arduino-uno", "arduino-uno"]\n', "a target is listed twice"),
    ("board = [\n", "not valid TOML"),
])
def test_bad_specs_are_one_line_errors(text, message):
    with pytest.raises(ToolkitError) as err:
        parse_spec(text)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bare_cores_and_boards_together():
    spec = parse_spec('arch = "cortex-m0plus"\n[grid]\nboard = ["arduino-uno"]\n')
    assert [(t.name, t.board is None) for t in spec.targets] == [("arduino-uno", False), ("cortex-m0plus", True)]


def test_every_option_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "sweep.md").read_text()
    for option in OPTIONS:
        assert f"`{option.name}`" in doc, option.name


def test_the_docs_example_parses():
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "sweep.md").read_text()
    spec = parse_spec(re.search(r"```toml\n(.*?)```", doc, re.DOTALL).group(1))
    assert (spec.grid_points, len(spec.trials())) == (72, 60)
    assert "72 grid points and\n60 trials" in doc
