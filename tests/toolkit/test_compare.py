"""`toolkit prune`, `distill`, `compare` and `compress` as a user runs them."""

import json

from PIL import Image

from tests.toolkit.test_cli import run


def test_compress_study_end_to_end(tmp_path):
    r = run("compress", "--function", "sin", "-o", tmp_path, "--epochs", "15", "--finetune-epochs", "6")
    assert r.returncode == 0, r.stderr
    table = json.loads((tmp_path / "compare.json").read_text())
    rows = {row["variant"].split(" ")[0] + "/" + row["quant"]: row for row in table["variants"]}
    assert set(rows) == {"baseline/float", "baseline/int8", "pruned50/int8", "pruned80/int8", "structured/int8",
                         "distilled/int8", "distilled/direct/int8"}
    assert rows["pruned50/int8"]["nonzero_params"] < rows["baseline/int8"]["nonzero_params"]
    assert rows["pruned80/int8"]["nonzero_params"] < rows["pruned50/int8"]["nonzero_params"]
    assert rows["structured/int8"]["params"] == 97 and rows["structured/int8"]["instructions"] < rows["baseline/int8"]["instructions"]
    assert rows["baseline/int8"]["int8_bytes"] == 420 and rows["baseline/float"]["float32_bytes"] == 1284
    for row in table["variants"]:
        assert row["instructions"] > 0 and row["flash_bytes"] > 0 and row["test_mse"] >= 0
    assert "instr/inf" in r.stdout and "pruned80" in r.stdout
    with Image.open(tmp_path / "tradeoff.png") as img:
        assert img.size[0] > 500 and img.size[1] > 200


def test_prune_and_distill_commands(trained_sine, tmp_path):
    r = run("prune", trained_sine / "model.keras", "--method", "weight", "--sparsity", "0.5", "-o", tmp_path / "p", "--epochs", "3")
    assert r.returncode == 0, r.stderr
    assert "weight sparsity" in r.stdout and "0.5" in r.stdout
    r = run("prune", trained_sine / "model.keras", "--method", "weight", "--sparsity", "1.5", "-o", tmp_path / "q")
    assert r.returncode == 2 and "--sparsity" in r.stderr
    r = run("distill", "--teacher", trained_sine / "model.keras", "--hidden", "4,4", "-o", tmp_path / "d", "--epochs", "3")
    assert r.returncode == 0, r.stderr
    assert "student (distilled)" in r.stdout and "student (direct)" in r.stdout
    r = run("distill", "--teacher", trained_sine / "model.keras", "-o", tmp_path / "e", "--temperature", "4")
    assert r.returncode == 2 and "classification" in r.stderr
    r = run("compare", tmp_path / "p", tmp_path / "d", "--quant", "int8", "--json", tmp_path / "c.json")
    assert r.returncode == 0, r.stderr
    assert [row["quant"] for row in json.loads((tmp_path / "c.json").read_text())["variants"]] == ["int8", "int8"]
