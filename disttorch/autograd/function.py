"""Function: one differentiable op; its instance is both the ctx and the graph node.

`Op` subclasses are disttorch's own ops: their `forward(ctx, *args)` computes on raw arrays
(`tensor._data`) and returns an ndarray (or a tuple of them); their `backward(ctx, *grads)`
is written in Tensor ops so that `create_graph=True` differentiates it again. User subclasses
of `Function` follow torch: forward takes and returns Tensors and runs with grad disabled.
"""

import itertools
import re
import weakref

import numpy as np

from .._tensor import Tensor, _new
from .grad_mode import state

_sequence = itertools.count()

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")


class _Freed:
    """Marks saved values released after a backward without retain_graph."""


FREED = _Freed()


class RemovableHandle:
    """Returned by register_*hook; `remove()` takes the hook out again."""

    _ids = itertools.count()

    def __init__(self, hooks_dict):
        self._hooks = hooks_dict
        self.id = next(RemovableHandle._ids)

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """What the engine needs of a graph node; Function and AccumulateGrad derive from it."""

    _next = ()
    _pre_hooks = None  # {output_nr: {handle_id: hook}}: tensor hooks of non-leaf outputs
    _retain_hooks = None  # {output_nr: weakref to tensor}: retain_grad(), run after hooks
    _hooks = None  # {handle_id: hook(grad_inputs, grad_outputs)}
    _node_prehooks = None  # {handle_id: hook(grad_outputs)}
    _seq = 0

    @property
    def next_functions(self):
        return self._next

    def name(self):
        return type(self).__name__

    def register_hook(self, fn):
        if self._hooks is None:
            self._hooks = {}
        handle = RemovableHandle(self._hooks)
        self._hooks[handle.id] = fn
        return handle

    def register_prehook(self, fn):
        if self._node_prehooks is None:
            self._node_prehooks = {}
        handle = RemovableHandle(self._node_prehooks)
        self._node_prehooks[handle.id] = fn
        return handle

    def _add_tensor_hook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = fn
        return handle

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"


class AccumulateGrad(Node):
    """The node of a leaf tensor: runs its hooks and accumulates into `.grad`."""

    _seq = float("inf")  # run as soon as ready, like torch's AccumulateGrad
    _out_meta = (None,)  # one input slot: the leaf's gradient
    _saved = ()
    _out_saved = None

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    @property
    def metadata(self):
        return {}


def accumulator_of(leaf):
    """The (cached) AccumulateGrad node of a leaf tensor that requires grad."""
    ref = leaf._acc_ref
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._acc_ref = weakref.ref(node)
    return node


class FunctionMeta(type):
    """Gives each Function subclass its node class, named like torch's (`AddBackward0`).

    The ctx/node of an op is an instance of that generated subclass, so both
    `grad_fn.name()` and `type(grad_fn).__name__` read as in torch.
    """

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        if attrs.get("_is_node_class"):
            return
        if "node_name" not in attrs:
            cls.node_name = name + "Backward"
        cls._node_class = FunctionMeta(cls.node_name, (cls,), {
            "_is_node_class": True, "__module__": cls.__module__,
            "__qualname__": cls.node_name})


class Function(Node, metaclass=FunctionMeta):
    """torch.autograd.Function: subclass it with static forward(ctx, ...) and backward(ctx, ...)."""

    _is_op = False  # disttorch's own ops compute on raw arrays (see Op)
    _saved = ()
    _saved_versions = ()
    _out_saved = None  # (data, version box, version) when an Op saved its output
    materialize_grads = True
    _dirty = ()
    _non_differentiable = ()
    needs_input_grad = ()
    _out_meta = ()

    def __init__(self, *args, **kwargs):
        pass

    def name(self):
        return self.node_name

    @property
    def metadata(self):
        if "_metadata" not in self.__dict__:
            self._metadata = {}
        return self._metadata

    # ---------------------------------------------------------------- ctx API

    def save_for_backward(self, *tensors):
        if not self.needs_input_grad:
            return  # no graph is recorded: nothing will read them
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else t._version[0] for t in tensors)

    def save_output(self):
        """Op forward: keep this op's (single) output for backward, as `ctx.saved_output`."""
        if self.needs_input_grad:
            self._out_saved = True

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is FREED:
            raise RuntimeError(_FREED_MESSAGE)
        for t, version in zip(saved, self._saved_versions):
            if t is not None and type(t) is not int and t._version[0] != version:
                _raise_modified(t, version)
        return tuple(self._unpack_output(t) if type(t) is int else t for t in saved)

    saved_variables = saved_tensors

    @property
    def saved_output(self):
        saved = self._out_saved
        if saved is FREED:
            raise RuntimeError(_FREED_MESSAGE)
        data, box, version, nr = saved
        if box[0] != version:
            t = Tensor._wrap(data)
            t._version = box
            t._grad_fn, t._output_nr = self, nr
            _raise_modified(t, version)
        out = _new(Tensor)
        out._data = data
        out._version = box
        out._requires_grad = True
        out._grad_fn = self
        out._output_nr = nr
        return out

    def _unpack_output(self, index):
        self._out_saved = self._outputs_saved[index]
        return self.saved_output

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = value

    def _release(self):
        if self._saved:
            self._saved = FREED
        if self._out_saved is not None:
            self._out_saved = FREED

    # ---------------------------------------------------------------- user-facing API

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        if cls._is_op:
            return _apply_op(cls, *args)
        return _apply_custom(cls, args, kwargs)


class Op(Function):
    """Base of disttorch's built-in ops: forward on arrays, backward in Tensor ops."""

    _is_op = True



def _apply_op(cls, *args):
    """The hot path: run forward on arrays, wrap the output(s), link the graph if needed."""
    ctx = _new(cls._node_class)
    needs = False
    if state.enabled:
        for a in args:
            if isinstance(a, Tensor) and a._requires_grad:
                needs = True
                break
    if not needs:
        out = cls.forward(ctx, *args)
        if type(out) is _ndarray:
            t = _new(Tensor)
            t._data = out
            t._version = [0]
            return t
        if type(out) is tuple:
            return tuple(Tensor._wrap(o) for o in out)
        return Tensor._wrap(out)
    flags = []
    nexts = []
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            flags.append(True)
            fn = a._grad_fn
            nexts.append((fn if fn is not None else accumulator_of(a), a._output_nr))
        else:
            flags.append(False)
            nexts.append(_NO_EDGE)
    ctx.needs_input_grad = tuple(flags)
    ctx._next = tuple(nexts)
    ctx._seq = next(_sequence)
    out = cls.forward(ctx, *args)
    if type(out) is tuple:
        return tuple(_wrap_output(ctx, o, i) for i, o in enumerate(out))
    return _wrap_output(ctx, out, 0)


_NO_EDGE = (None, 0)
_ndarray = np.ndarray
Op.apply = classmethod(_apply_op)


def _wrap_output(ctx, data, nr):
    t = Tensor._wrap(data)
    data = t._data
    if data.dtype.kind in "fV":  # V: ml_dtypes' bfloat16
        t._requires_grad = True
        t._grad_fn = ctx
        if nr:
            t._output_nr = nr
        if ctx._out_saved is True:
            ctx._out_saved = (data, t._version, 0, nr)
        ctx._out_meta += ((data.shape, data.dtype),)
    else:
        ctx._out_meta += (None,)
    return t


def _apply_custom(cls, args, kwargs):
    """torch semantics for user Functions: forward on Tensors under no_grad."""
    ctx = _new(cls._node_class)
    needs = state.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    if needs:
        ctx._next = tuple(
            ((a._grad_fn if a._grad_fn is not None else accumulator_of(a)), a._output_nr)
            if isinstance(a, Tensor) and a._requires_grad else (None, 0) for a in args)
        ctx._seq = next(_sequence)
    separate_setup = cls.setup_context is not Function.setup_context
    previous = state.enabled
    state.enabled = False
    try:
        if separate_setup:  # torch 2 style: forward(*args) then setup_context(ctx, ...)
            raw = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, raw)
        else:
            raw = cls.forward(ctx, *args, **kwargs)
    finally:
        state.enabled = previous
    single = not isinstance(raw, tuple)
    raw_outputs = (raw,) if single else raw
    dirty_ids = {id(t) for t in ctx._dirty}
    non_diff_ids = {id(t) for t in ctx._non_differentiable}
    outputs = []
    saved_outputs = []
    for nr, r in enumerate(raw_outputs):
        if not isinstance(r, Tensor):
            if needs:
                ctx._out_meta += (None,)
            outputs.append(r)
            continue
        if id(r) in dirty_ids:
            t = r  # modified in place: the same tensor object takes the new history
            t._version[0] += 1
        else:
            t = Tensor._wrap(r._data)
            t._version = r._version
        if needs and id(r) not in non_diff_ids and r.dtype.is_floating_point:
            t._requires_grad = True
            t._grad_fn = ctx
            t._output_nr = nr
            ctx._out_meta += ((r._data.shape, r._data.dtype),)
        else:
            if needs:
                ctx._out_meta += (None,)
            if t is r:
                t._grad_fn = None
                t._requires_grad = False
        outputs.append(t)
        saved_outputs.append((t._data, t._version, t._version[0], nr))
    # a saved output is stored by index, rebuilt with this node as grad_fn when unpacked
    if ctx._saved and ctx._saved is not FREED:
        ids = {id(r): i for i, r in enumerate(raw_outputs)}
        ctx._outputs_saved = saved_outputs
        ctx._saved = tuple(ids[id(t)] if id(t) in ids else t for t in ctx._saved)
        ctx._saved_versions = tuple(
            saved_outputs[v][2] if type(t) is int else v
            for t, v in zip(ctx._saved, ctx._saved_versions))
    return outputs[0] if single else tuple(outputs)


def _no_setup_context(ctx, inputs, output):
    """Default: forward(ctx, ...) sets up the ctx itself."""


Function.setup_context = staticmethod(_no_setup_context)


def _raise_modified(t, version):
    from .._tensor_str import type_name

    fn = t._grad_fn
    op_name = re.sub(r"Backward\d*$", "", fn.name()) if fn is not None else ""
    where = f", which is output {t._output_nr} of {op_name}," if fn is not None else ""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{type_name(t)} [{', '.join(str(s) for s in t._data.shape)}]]{where} is at "
        f"version {t._version[0]}; expected version {version} instead. Hint: enable anomaly "
        "detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")
