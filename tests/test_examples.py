"""The examples run as users run them (subprocesses), at reduced size, and reach their marks."""

import os
import re
import subprocess
import sys

import pytest

import disttorch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMPI_ALLOW_RUN_AS_ROOT": "1",
       "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "PYTHONPATH": ROOT}


def run(args, timeout=300):
    result = subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def example(name, *args):
    return run([sys.executable, os.path.join("examples", name), *args])


def final_accuracy(output):
    return float(re.findall(r"final test accuracy ([\d.]+)%", output)[-1])


def test_quickstart_reaches_95_percent():
    out = example("quickstart.py", "--epochs", "10")
    assert "Saved PyTorch Model State" in out and "Predicted:" in out
    assert final_accuracy(out) >= 95.0


def test_cnn_digits_reaches_97_percent():
    out = example("cnn_digits.py", "--epochs", "10", "--no-progress")
    losses = [float(x) for x in re.findall(r"train loss ([\d.]+)", out)]
    assert losses[-1] < losses[0]
    assert final_accuracy(out) >= 97.0


def test_sequence_lstm_learns_sine_waves():
    out = example("sequence.py")
    mse, accuracy = re.findall(r"test mse ([\d.]+)\s+accuracy \(\|error\| < 0.05\) ([\d.]+)%",
                               out)[-1]
    assert float(mse) < 0.005 and float(accuracy) >= 80.0


def launcher(*args):
    return [sys.executable, "-m", "disttorch_launch", "-n", "2", *args]


def checkpoint_history(directory):
    return disttorch.load(os.path.join(directory, "checkpoint.pt"))["history"]


def test_train_ddp_resume_reproduces_uninterrupted_losses(tmp_path):
    common = ["examples/train_ddp.py", "--epochs", "2", "--batch-size", "64", "--no-progress"]
    straight, interrupted = str(tmp_path / "straight"), str(tmp_path / "interrupted")
    out = run(launcher(*common, "--checkpoint-dir", straight))
    assert "(2 ranks)" in out and "final test accuracy" in out
    first = subprocess.run(launcher(*common, "--checkpoint-dir", interrupted, "--max-steps",
                                    "9"), cwd=ROOT, env=ENV, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 3, first.stderr[-3000:]  # REQUEUE_EXIT_CODE: resume needed
    assert "stopped at epoch 1 step 9" in first.stdout
    out = run(launcher(*common, "--checkpoint-dir", interrupted, "--resume"))
    assert "resumed from" in out and "step 9" in out
    expected = checkpoint_history(straight)
    assert len(expected) > 9
    assert checkpoint_history(interrupted) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_train_ddp_resume_from_epoch_end_reproduces_losses(tmp_path):
    common = ["examples/train_ddp.py", "--batch-size", "64", "--no-progress"]
    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    run(launcher(*common, "--epochs", "2", "--checkpoint-dir", straight))
    run(launcher(*common, "--epochs", "1", "--checkpoint-dir", resumed))
    out = run(launcher(*common, "--epochs", "2", "--checkpoint-dir", resumed, "--resume"))
    assert "resumed from" in out and "epoch 2, step 0" in out
    assert checkpoint_history(resumed) == pytest.approx(checkpoint_history(straight),
                                                        rel=1e-9, abs=1e-12)
