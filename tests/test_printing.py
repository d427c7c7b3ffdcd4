"""repr(tensor), print options and legacy type names, checked against real torch.

Each case builds the same NumPy data in torch and in disttorch and compares the printed
strings character for character.
"""

import math

import ml_dtypes
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from disttorch import _backend as B
from disttorch import _tensor_str as S
from disttorch._tensor import Tensor

rng = np.random.default_rng(0)
nan, inf = math.nan, math.inf


def f32(values):
    return np.array(values, dtype=np.float32)


def pair(array):
    """The same data as a torch tensor and a disttorch tensor."""
    if array.dtype == ml_dtypes.bfloat16:
        ours = Tensor._wrap(array.copy())
        return torch.from_numpy(array.astype(np.float32)).to(torch.bfloat16), ours
    return torch.from_numpy(array.copy()), Tensor._wrap(array.copy())


@pytest.fixture
def options():
    """Set print options (and the default dtype) in both libraries; restore them after."""
    def apply(default_dtype=None, **kwargs):
        torch.set_printoptions(**kwargs)
        S.set_printoptions(**kwargs)
        if default_dtype is not None:
            torch.set_default_dtype(getattr(torch, default_dtype))
            B.set_default_dtype(B.DTYPES[default_dtype])

    yield apply
    torch.set_printoptions(profile="default")
    S.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    B.set_default_dtype(B.float32)


CASES = [
    # floats of several magnitudes
    ("integral", f32([1, 2, 3])),
    ("fixed", f32([0.1, 2.0])),
    ("fixed_negative", f32([-1.5, 2.25, 0.0])),
    ("rounding_up", f32([9.99996, 0.5])),
    ("precise", f32([0.123456, 1234.5678])),
    ("scalar", np.array(3.5, dtype=np.float32)),
    ("scalar_integral", np.array(-2.0, dtype=np.float32)),
    ("scalar_tiny", np.array(1e-7, dtype=np.float32)),
    ("sci_ratio", f32([1e-5, 1e5])),
    ("sci_large", f32([1e9, 1.0])),
    ("sci_small", f32([1e-5, 2e-5])),
    ("sci_boundary", f32([1e-4, 0.1])),
    ("ratio_1000", f32([1.0, 1000.0])),
    ("ratio_1001", f32([1.0, 1001.0])),
    ("big_integral", f32([1e8, 3.0e7])),
    ("nonfinite", f32([nan, inf, -inf, 1.5])),
    ("nonfinite_integral", f32([1.0, inf])),
    ("nonfinite_sci", f32([1e-6, nan, -inf])),
    ("only_nan", f32([nan, nan])),
    ("scalar_nan", np.array(nan, dtype=np.float32)),
    ("negative_zero", f32([-0.0, 1.0])),
    ("negative_zero_fixed", f32([-0.0, 0.5])),
    ("scalar_negative_zero", np.array(-0.0, dtype=np.float32)),
    ("zeros", np.zeros(4, np.float32)),
    # integers and booleans
    ("int64", np.array([1, 2], dtype=np.int64)),
    ("int_widths", np.array([-100, 5, 30000], dtype=np.int64)),
    ("int_scalar", np.array(7, dtype=np.int64)),
    ("int_2d", np.array([[1, -20], [300, 4]], dtype=np.int64)),
    ("int32", np.array([1, 2, -3], dtype=np.int32)),
    ("int16", np.array([[1], [2]], dtype=np.int16)),
    ("int8", np.array([-128, 127], dtype=np.int8)),
    ("uint8", np.array([0, 255, 7], dtype=np.uint8)),
    ("int32_scalar", np.array(5, dtype=np.int32)),
    ("bool", np.array([True, False])),
    ("bool_scalar", np.array(True)),
    ("bool_2d", np.array([[True, True], [False, True]])),
    # empty
    ("empty", np.zeros(0, np.float32)),
    ("empty_2d", np.zeros((0, 3), np.float32)),
    ("empty_3d", np.zeros((2, 0, 3), np.float32)),
    ("empty_int64", np.zeros(0, np.int64)),
    ("empty_int32_2d", np.zeros((4, 0), np.int32)),
    ("empty_bool", np.zeros(0, np.bool_)),
    ("empty_float64", np.zeros((0,), np.float64)),
    # shapes
    ("2d", rng.standard_normal((3, 4)).astype(np.float32)),
    ("3d", rng.standard_normal((2, 3, 4)).astype(np.float32)),
    ("4d", rng.standard_normal((2, 1, 2, 3)).astype(np.float32)),
    ("2d_sci", (rng.standard_normal((3, 3)) * 1e6).astype(np.float32)),
    ("column", f32([[1.5], [2.5], [3.5]])),
    ("long_row", np.arange(40, dtype=np.float32) / 3),
    ("long_int_row", np.arange(100, dtype=np.int64) * 37),
    ("long_rows_2d", rng.standard_normal((3, 25)).astype(np.float32)),
    ("long_rows_3d", rng.standard_normal((2, 2, 20)).astype(np.float32)),
    # summarised
    ("summary_1d", np.arange(2000, dtype=np.float32)),
    ("summary_1d_int", np.arange(1001, dtype=np.int64)),
    ("summary_2d", rng.standard_normal((50, 50)).astype(np.float32)),
    ("summary_3d_int", rng.integers(-50, 50, (20, 20, 20))),
    ("summary_narrow", rng.standard_normal((1000, 2)).astype(np.float32)),
    ("summary_wide", rng.standard_normal((2, 1000)).astype(np.float32)),
    ("summary_hidden_extremes", np.concatenate([f32([1, 2, 3]), f32([1e-9] * 1000),
                                                f32([4, 5, 6])])),
    # non-default dtypes
    ("float64", np.array([1.0, 2.5], dtype=np.float64)),
    ("float64_scalar", np.array(1.0, dtype=np.float64)),
    ("float64_precise", np.array([1 / 3, 1e-3], dtype=np.float64)),
    ("float16", np.array([1.0, 0.1, 65504.0], dtype=np.float16)),
    ("float16_2d", rng.standard_normal((2, 3)).astype(np.float16)),
    ("bfloat16", np.array([1.0, 0.1, 3e38], dtype=ml_dtypes.bfloat16)),
    ("bfloat16_fixed", np.array([0.1, 0.2, 2.5], dtype=ml_dtypes.bfloat16)),
]


@pytest.mark.parametrize("array", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_repr_matches_torch(array):
    theirs, ours = pair(array)
    assert repr(ours) == repr(theirs)
    assert str(ours) == repr(ours) == S.tensor_str(ours)


OPTION_CASES = [
    ("precision_2", {"precision": 2}, f32([0.123456, 1.5])),
    ("precision_0", {"precision": 0}, f32([0.6, 1.5, 1e-6])),
    ("precision_8", {"precision": 8}, np.array([1 / 3, 2.0], np.float64)),
    ("threshold_5", {"threshold": 5}, np.arange(10, dtype=np.int64)),
    ("threshold_5_2d", {"threshold": 5}, np.arange(64, dtype=np.float32).reshape(8, 8)),
    ("threshold_0_scalar", {"threshold": 0}, np.array(2.5, np.float32)),
    ("edgeitems_1", {"edgeitems": 1, "threshold": 10}, np.arange(60.0).reshape(3, 4, 5)),
    ("edgeitems_0", {"edgeitems": 0, "threshold": 5}, np.arange(10, dtype=np.float32)),
    ("edgeitems_0_2d", {"edgeitems": 0, "threshold": 5}, np.ones((3, 4), np.float32)),
    ("edgeitems_0_small", {"edgeitems": 0}, np.ones(2, np.float32)),
    ("linewidth_40", {"linewidth": 40}, np.arange(30, dtype=np.float32) / 7),
    ("linewidth_10", {"linewidth": 10}, np.arange(6, dtype=np.int64).reshape(2, 3)),
    ("linewidth_suffix", {"linewidth": 30}, np.arange(5, dtype=np.int32)),
    ("sci_on", {"sci_mode": True}, f32([1.0, 2.0])),
    ("sci_on_zeros", {"sci_mode": True}, f32([0.0, 0.0])),
    ("sci_on_nonfinite", {"sci_mode": True}, f32([nan, 1.0, inf])),
    ("sci_off", {"sci_mode": False}, f32([1e-5, 1e5])),
    ("sci_off_huge", {"sci_mode": False}, f32([1e20, 1.0])),
    ("profile_short", {"profile": "short"}, np.arange(2000, dtype=np.float32) / 3),
    ("profile_full", {"profile": "full"}, np.arange(1500, dtype=np.int64)),
    ("profile_full_override", {"profile": "full", "precision": 1}, f32([0.25, 1 / 3])),
    ("default_float64_f32", {"default_dtype": "float64"}, f32([1.0, 2.5])),
    ("default_float64_f64", {"default_dtype": "float64"}, np.array([1.0, 2.5])),
    ("default_float64_empty", {"default_dtype": "float64"}, np.zeros(0, np.float32)),
    ("default_float64_int", {"default_dtype": "float64"}, np.array([3], np.int64)),
]


@pytest.mark.parametrize("settings_, array", [c[1:] for c in OPTION_CASES],
                         ids=[c[0] for c in OPTION_CASES])
def test_repr_with_options_matches_torch(options, settings_, array):
    options(**settings_)
    theirs, ours = pair(array)
    assert repr(ours) == repr(theirs)


def test_printoptions_round_trip(options):
    assert S.get_printoptions() == torch._tensor_str.get_printoptions()
    for kwargs in [{"precision": 2, "sci_mode": True}, {"linewidth": 120},
                   {"profile": "full"}, {"profile": "short", "edgeitems": 5},
                   {"profile": "no-such-profile"}, {"profile": "default"}]:
        options(**kwargs)
        assert S.get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context_restores():
    before = S.get_printoptions()
    with S.printoptions(precision=1, threshold=3):
        assert repr(Tensor._wrap(f32([0.25, 1.75]))) == "tensor([0.2, 1.8])"
    assert S.get_printoptions() == before


class _FakeNode:
    def name(self):
        return "AddBackward0"


AUTOGRAD_ARRAYS = [
    f32([1.0, 2.0]),
    np.array(1.5, np.float32),
    np.array([1.0, 2.0]),
    rng.standard_normal((3, 4)).astype(np.float32),
    np.arange(13, dtype=np.float32) / 3,  # a last line that leaves no room for the suffix
    np.arange(2000, dtype=np.float64),
]


@pytest.mark.parametrize("array", AUTOGRAD_ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_requires_grad_suffix(array):
    theirs, ours = pair(array)
    theirs.requires_grad_()
    ours._requires_grad = True
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("array", AUTOGRAD_ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_grad_fn_suffix(array):
    theirs = torch.from_numpy(array.copy()).requires_grad_() + 1
    ours = Tensor._wrap(theirs.detach().numpy().copy())
    ours._requires_grad = True
    ours._grad_fn = _FakeNode()
    assert repr(ours) == repr(theirs)


def test_cuda_device_suffix_and_type(monkeypatch):
    # no GPU in the oracle: a CPU tensor claims to be on cuda:0, and torch's known output
    # (device after the data, before dtype) is spelled out
    monkeypatch.setattr(Tensor, "device", property(lambda self: B.device("cuda", 0)))
    assert repr(Tensor._wrap(f32([1, 2]))) == "tensor([1., 2.], device='cuda:0')"
    half = Tensor._wrap(np.array([1.5], np.float16))
    assert repr(half) == "tensor([1.5000], device='cuda:0', dtype=torch.float16)"
    assert S.type_name(half) == "torch.cuda.HalfTensor"


def test_subclass_prefix():
    class Special(Tensor):
        pass

    t = object.__new__(Special)
    t._data, t._version = f32([1, 2]), [0]
    assert repr(t) == "Special([1., 2.])"


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.float16, ml_dtypes.bfloat16,
                                      np.uint8, np.int8, np.int16, np.int32, np.int64,
                                      np.bool_], ids=lambda d: np.dtype(d).name)
def test_type_name_matches_torch(np_dtype):
    theirs, ours = pair(np.ones(2, dtype=np_dtype))
    assert S.type_name(ours) == theirs.type()


FLOATS = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=st.sampled_from([(), (1,), (7,), (3, 4), (2, 3, 2), (30,)]),
    # any float32 value (nan, inf, subnormals), moderate ones, and integral ones
    elements=st.one_of(st.floats(width=32), st.floats(-1e3, 1e3, width=32),
                       st.integers(-10**6, 10**6).map(float)),
)


@settings(max_examples=150, deadline=None)
@given(FLOATS)
def test_random_floats_match_torch(array):
    theirs, ours = pair(array)
    assert repr(ours) == repr(theirs)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float32, st.sampled_from([(4,), (2, 5)]),
                  elements=st.sampled_from([0.0, -0.0, 1.0, -3.0, 0.5, 1e-5, 2e9, nan])))
def test_random_special_values_match_torch(array):
    theirs, ours = pair(array)
    assert repr(ours) == repr(theirs)
