"""Labels of coinciding points do not overprint; columns have human names."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from toolkit.report.labels import annotate_apart, column, timing_label  # noqa: E402


def test_labels_of_one_point_do_not_overlap():
    fig, ax = plt.subplots()
    ax.scatter([1, 1, 1, 1.01], [2, 2, 2, 2.01])
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 4)
    annotate_apart(ax, [1, 1, 1, 1.01], [2, 2, 2, 2.01], ["8-8 (int8)", "8-8 (float)", "16-16 (int8)", "8-8 pruned"])
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(fig)


def test_columns_and_timing():
    assert column("c_const_bytes") == "weights in C (B)" and column("cycles_est") == "cycles / inference"
    assert timing_label({"cycles_est": 10, "timing_model": "exact, counted by the engine"}).startswith("exact")
    assert timing_label({"cycles_est": 10, "timing_model": "cortex-m4: TRM"}) == "estimated (cortex-m4: TRM)"
    assert timing_label({"cycles_est": None}) == "-"
