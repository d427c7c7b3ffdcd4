"""How tensors print: torch's `repr(tensor)`, the print options, and legacy type names.

The output must match torch character for character (users diff logs and doctests), so the
rules below follow torch's printer, quirks included:

- one formatter per tensor decides a common element width and a mode: integers-as-floats
  (`1.`), fixed point with `precision` digits, or scientific when the nonzero finite
  magnitudes span more than 1000x or leave [1e-4, 1e8];
- above `threshold` elements every long dimension shows only `edgeitems` items at each end,
  and the formatter sees only those;
- rows wrap at `linewidth`, nested dimensions indent by one column per level;
- suffixes (device, dtype, size, grad_fn, requires_grad) follow the data, wrapping too.
"""

import contextlib
import math

import numpy as np

from . import _backend as B
from ._tensor import Tensor, set_repr

_DEFAULTS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80}
_PROFILES = {
    "default": _DEFAULTS,
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# key order is torch's: get_printoptions() returns it as-is
_options = dict(_DEFAULTS, sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: change how tensors print, from a profile and/or single options.

    profile is 'default', 'short' or 'full' (torch ignores any other name); explicit options
    override it. Like torch, sci_mode is always reset (to None, automatic) unless given.
    """
    if profile in _PROFILES:
        _options.update(_PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems,
             "linewidth": linewidth}
    _options.update({key: value for key, value in given.items() if value is not None})
    _options["sci_mode"] = sci_mode


def get_printoptions():
    """The current print options, as keyword arguments for set_printoptions."""
    return dict(_options)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Print with the given options inside a `with` block, restoring the old ones after."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ----------------------------------------------------------------------------- formatter


class _Formatter:
    """Chooses one width and notation for every element of a tensor, from the shown values.

    Float values arrive as float64: widening is exact for every float dtype, and torch
    formats the Python floats it gets from `.item()`, which are the same doubles.
    """

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.precision = _options["precision"]
        self.width = 1
        if not floating:
            texts = [str(v) for v in np.unique(values).tolist()]
            self.width = max([self.width] + [len(s) for s in texts])
            return
        shown = np.unique(values[np.isfinite(values) & (values != 0)])
        if shown.size == 0:
            # nothing to measure: zeros, nan and inf print as `0.`, `nan`, `inf`, even when
            # sci_mode is forced on
            return
        magnitudes = np.abs(shown)
        low, high = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        forced = _options["sci_mode"]
        if forced is None:
            self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        else:
            self.sci_mode = forced
        if self.sci_mode:
            texts = [f"{v:.{self.precision}e}" for v in shown.tolist()]
            self.width = max(len(s) for s in texts)
        elif self.int_mode:
            # the trailing '.' that marks a float is not in the text yet
            self.width = max(len(f"{v:.0f}") + 1 for v in shown.tolist())
        else:
            self.width = max(len(f"{v:.{self.precision}f}") for v in shown.tolist())

    def format(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{self.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{self.precision}f}"
        return text.rjust(self.width)


# ----------------------------------------------------------------------------- layout


def _edges(array, edge):
    """The array cut to its first and last `edge` items along every longer dimension."""
    xp = B.get_array_module(array)
    for axis, size in enumerate(array.shape):
        if size > 2 * edge:
            before = (slice(None),) * axis
            head = array[before + (slice(None, edge),)]
            tail = array[before + (slice(size - edge, None),)]
            array = xp.concatenate((head, tail), axis=axis)
    return array


def _layout(array, elided, indent, formatter):
    """Nested brackets for a host array; elided[k] says dimension k was cut around '...'."""
    if array.ndim == 0:
        return formatter.format(array.item())
    edge = _options["edgeitems"]
    if array.ndim == 1:
        items = [formatter.format(v) for v in array.tolist()]
        if elided[0]:
            items.insert(edge, " ...")
        # each item takes its width plus ', '
        per_line = max(1, math.floor((_options["linewidth"] - indent) / (formatter.width + 2)))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [_layout(row, elided[1:], indent + 1, formatter) for row in array]
    if elided[0]:
        rows.insert(edge, "...")
    # one blank line per dimension below the rows' own
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(rows) + "]"


def _data_text(data, floating, indent):
    """The bracketed values of a non-empty array, summarised past the threshold."""
    summarize = data.size > _options["threshold"]
    edge = _options["edgeitems"]
    if summarize and not edge and data.ndim:
        return "[...]"
    # cut on the array's own device so that only what prints is copied to the host
    shown = B.move_array(_edges(data, edge) if summarize else data, B.CPU)
    if floating:
        shown = shown.astype(np.float64)
    formatter = _Formatter(shown.reshape(-1), floating)
    elided = [summarize and size > 2 * edge for size in data.shape]
    return _layout(shown, elided, indent, formatter)


def _with_suffixes(text, suffixes, indent):
    """Append ', suffix' items and the closing ')', wrapping past the line width."""
    parts = [text]
    # torch counts two columns more than the last line holds; kept so that wraps agree
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _options["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _prefix(t):
    # Parameter prints as a plain tensor (its own repr adds 'Parameter containing:'); it is
    # known by name because nn sits above this layer
    if type(t) is Tensor or type(t).__name__ == "Parameter":
        return "tensor("
    return type(t).__name__ + "("


def tensor_repr(t):
    """torch's repr of a tensor: `tensor([1., 2.])` plus any suffixes it needs."""
    data = t._data
    dtype = t.dtype
    default_float = B.get_default_dtype()
    prefix = _prefix(t)
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if data.size == 0:
        # nothing to show the shape or (for integers) the dtype, so both are spelled out
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype is not default_float:
            suffixes.append(f"dtype={dtype}")
        text = "[]"
    else:
        if not _options["edgeitems"]:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype not in (default_float, B.int64, B.bool_):
            suffixes.append(f"dtype={dtype}")
        text = _data_text(data, dtype.is_floating_point, indent)
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + text, suffixes, indent)


# torch's str(tensor) is its repr
tensor_str = tensor_repr


_LEGACY_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "bfloat16": "BFloat16Tensor", "uint8": "ByteTensor", "int8": "CharTensor",
    "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor",
}


def type_name(t):
    """The legacy type string `Tensor.type()` returns, e.g. 'torch.cuda.FloatTensor'."""
    module = "torch.cuda." if t.device.type == "cuda" else "torch."
    return module + _LEGACY_NAMES[t.dtype.name]


set_repr(tensor_repr)
