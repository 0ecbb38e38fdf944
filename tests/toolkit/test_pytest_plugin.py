"""The `emulate` fixture, exercised the way a user's test suite would use it."""

import sys


def test_plugin_in_a_users_suite(pytester, reference_models):
    pytester.makepyfile(
        test_user=f"""
        MODEL = {str(reference_models["int8"])!r}

        def test_model(emulate):
            r = emulate(MODEL, board="arduino-nano-33-ble")
            assert r.mismatches == 0 and r.stack_bytes < 512 and r.fits
            assert r.n_inputs == 256 and r.instructions > 0 and r.flash_limit == 1048576

        def test_on_a_core(emulate):
            r = emulate(MODEL, arch="cortex-m0plus", inputs=8)
            assert r.passed and r.fits is None and r.n_inputs == 8

        def test_ram_2k_profile(emulate):
            r = emulate(MODEL, board="ram-2k")
            assert r.fits  # the hello-world model fits in 2 KB of RAM

        def test_arguments(emulate):
            import pytest
            with pytest.raises(ValueError):
                emulate(MODEL)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)


def test_relative_paths_are_taken_from_the_test_file(pytester, reference_models):
    """The suite runs from another folder: the model beside the test file is still found."""
    import shutil

    suite = pytester.mkdir("suite")
    shutil.copyfile(reference_models["int8"], suite / "model.tflite")
    (suite / "test_user.py").write_text(
        "def test_model(emulate):\n"
        "    r = emulate('model.tflite', board='arduino-nano-33-ble', inputs=4)\n"
        "    assert r.passed and r.cycles_est > r.instructions > 0\n"
        "    assert r.latency_us == round(r.cycles_est / 64, 3) and 'cortex-m4' in r.timing_model\n"
    )
    elsewhere = pytester.mkdir("elsewhere")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", str(suite), "--rootdir", str(elsewhere))
    result.assert_outcomes(passed=1)


def test_failing_assertion_is_reported(pytester, reference_models):
    pytester.makepyfile(
        test_user=f"""
        def test_too_strict(emulate):
            r = emulate({str(reference_models["int8"])!r}, board="arduino-nano-33-ble", inputs=4)
            assert r.stack_bytes < 8
        """
    )
    result = pytester.runpytest_subprocess("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stack_bytes*"])


def test_plugin_is_registered_by_the_install():
    from importlib.metadata import entry_points

    names = {ep.value for ep in entry_points(group="pytest11")}
    assert "toolkit.pytest_plugin" in names, f"reinstall with 'make setup' ({sys.executable})"


def test_plugin_with_a_cnn(pytester, graph_models):
    """A keyword-spotting DS-CNN through the fixture: fits the Nano 33 BLE, not 16 KB of RAM."""
    from tests.toolkit.cnnmodels import KWS

    path = graph_models(KWS)
    pytester.makepyfile(
        test_user=f"""
        MODEL = {str(path)!r}

        def test_kws_on_the_nano(emulate):
            r = emulate(MODEL, board="arduino-nano-33-ble", inputs=2)
            assert r.passed and r.mismatches == 0 and r.fits and r.n_inputs == 2

        def test_kws_needs_more_than_16k(emulate):
            assert not emulate(MODEL, board="ram-16k", inputs=1).fits
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)
