"""Recurrent layers: torch.lstm / gru / rnn_tanh / rnn_relu and their one-step cells.

Each layer and direction of a sequence is one fused op whose forward and backward run the time
loop on raw arrays (see _rnn_kernels.py): a Python loop of Tensor ops per time step would cost
more in framework overhead than the arithmetic itself. Those ops compute their backward on
arrays, so their gradients cannot be differentiated again: under create_graph=True the
gradients come out attached to a node that raises a clear error if backward reaches it.
The cells (lstm_cell ...) are compositions of Tensor ops, differentiable to any order, with
torch's node names.
"""

from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from . import _rnn_kernels as K
from ._common import _legacy_name
from .join import cat, stack
from .nn_layers import dropout, linear

__all__ = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell", "rnn_tanh_cell",
           "rnn_relu_cell"]
FUNCTIONAL = []  # torch.nn.functional has no recurrent functions


def _data(t):
    return None if t is None else t._data


class _FusedGrads(Op):
    """Carries gradients a fused layer computed on arrays; differentiating them again raises."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, layer, arrays, *anchors):
        ctx.layer = layer
        return arrays

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"double backward through disttorch's fused {ctx.layer} layer is not "
                           f"supported (its backward runs on raw arrays); use "
                           f"nn.{ctx.layer}Cell in a loop for higher-order gradients")


class _FusedLayer(Op):
    """Base of the fused layer ops: the forward's work arrays live on ctx until released."""

    materialize_grads = False  # unused outputs (often h_n, c_n) arrive as None, not zeros
    layer = ""

    def _release(self):
        super()._release()
        self.work = None

    @staticmethod
    def _grads(ctx, arrays):
        """The backward's arrays as Tensors, None where no gradient is wanted."""
        flags = ctx.needs_input_grad
        arrays = [a if flag else None for a, flag in zip(arrays, flags)]
        if not state.enabled:
            return tuple(None if a is None else Tensor._wrap(a) for a in arrays) + (None,)
        # create_graph=True: the gradients join the graph through a node that refuses
        # to be differentiated (it links to everything the gradients depend on)
        present = [i for i, a in enumerate(arrays) if a is not None]
        anchors = [t for t in ctx.saved_tensors if t is not None] + list(ctx.grad_outputs)
        wrapped = _FusedGrads.apply(ctx.layer, tuple(arrays[i] for i in present), *anchors)
        grads = [None] * len(arrays)
        for i, t in zip(present, wrapped):
            grads[i] = t
        return tuple(grads) + (None,)


class _LSTMLayer(_FusedLayer):
    node_name = "StackBackward0"
    layer = "LSTM"

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
        out, h_n, c_n, work = K.lstm_forward(
            x._data, _data(h0), _data(c0), w_ih._data, w_hh._data, _data(b_ih), _data(b_hh),
            _data(w_hr), reverse)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
            ctx.work = work
        return out, h_n, c_n

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn):
        ctx.saved_tensors  # noqa: B018 - raises if freed or modified in place
        ctx.grad_outputs = [g for g in (d_out, d_hn, d_cn) if g is not None]
        flags = ctx.needs_input_grad
        dx, dh0, dc0, dw_ih, dw_hh, db, dw_hr = K.lstm_backward(
            ctx.work, _data(d_out), _data(d_hn), _data(d_cn), flags[0], any(flags[3:8]))
        db_hh = None if db is None else db.copy()
        return _FusedLayer._grads(ctx, (dx, dh0, dc0, dw_ih, dw_hh, db, db_hh, dw_hr))


class _LSTMLayerOneDNN(_LSTMLayer):
    """torch runs float32 LSTMs without projections through oneDNN: its node's name."""

    node_name = "MkldnnRnnLayerBackward0"


class _GRULayer(_FusedLayer):
    node_name = "StackBackward0"
    layer = "GRU"

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        out, h_n, work = K.gru_forward(x._data, _data(h0), w_ih._data, w_hh._data,
                                       _data(b_ih), _data(b_hh), reverse)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
            ctx.work = work
        return out, h_n

    @staticmethod
    def backward(ctx, d_out, d_hn):
        ctx.saved_tensors  # noqa: B018 - raises if freed or modified in place
        ctx.grad_outputs = [g for g in (d_out, d_hn) if g is not None]
        flags = ctx.needs_input_grad
        grads = K.gru_backward(ctx.work, _data(d_out), _data(d_hn), flags[0], any(flags[2:6]))
        return _FusedLayer._grads(ctx, grads)


class _RNNLayer(_FusedLayer):
    node_name = "StackBackward0"
    layer = "RNN"

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
        out, h_n, work = K.rnn_forward(x._data, _data(h0), w_ih._data, w_hh._data,
                                       _data(b_ih), _data(b_hh), reverse, relu)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, h0, w_ih, w_hh, b_ih, b_hh)
            ctx.work = work
        return out, h_n

    @staticmethod
    def backward(ctx, d_out, d_hn):
        ctx.saved_tensors  # noqa: B018 - raises if freed or modified in place
        ctx.grad_outputs = [g for g in (d_out, d_hn) if g is not None]
        flags = ctx.needs_input_grad
        dx, dh0, dw_ih, dw_hh, db = K.rnn_backward(ctx.work, _data(d_out), _data(d_hn),
                                                   flags[0], any(flags[2:6]))
        db_hh = None if db is None else db.copy()
        return _FusedLayer._grads(ctx, (dx, dh0, dw_ih, dw_hh, db, db_hh)) + (None,)


# ---------------------------------------------------------------- multi-layer sequences


def _check_dtypes(x, weight):
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got "
                           f"{_legacy_name(x.dtype)} and {_legacy_name(weight.dtype)}")


def _run(mode, input, h0, c0, params, has_biases, num_layers, dropout_p, train, bidirectional,
         batch_first, proj=False):
    """The stacked layers of torch's _VF.<mode>; h0/c0 may be None (zeros); `proj`: LSTM
    parameters include weight_hr (projections)."""
    x = input.transpose(0, 1) if batch_first else input
    if x._data.ndim != 3:
        raise RuntimeError(f"input must have 3 dimensions, got {x._data.ndim}")
    if x._data.shape[0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    directions = 2 if bidirectional else 1
    stride = (4 if has_biases else 2) + proj
    if len(params) % stride or len(params) // stride != num_layers * directions:
        raise RuntimeError(f"MatrixRef: ArrayRef size {len(params)} not divisible by stride "
                           f"{stride}" if len(params) % stride else
                           f"expected {num_layers * directions * stride} RNN parameters, got "
                           f"{len(params)}")
    h0s = None if h0 is None else h0.unbind(0)
    c0s = None if c0 is None else c0.unbind(0)
    lstm_op = _LSTMLayerOneDNN if x._data.dtype.name == "float32" and not proj else _LSTMLayer
    h_n, c_n = [], []
    for layer in range(num_layers):
        outputs = []
        for direction in range(directions):
            k = layer * directions + direction
            w = params[k * stride:(k + 1) * stride]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            h = None if h0s is None else h0s[k]
            reverse = direction == 1
            _check_dtypes(x, w[0])
            if mode == "LSTM":
                out, hn, cn = lstm_op.apply(x, h, None if c0s is None else c0s[k], w[0], w[1],
                                            b_ih, b_hh, w[-1] if proj else None, reverse)
                c_n.append(cn)
            elif mode == "GRU":
                out, hn = _GRULayer.apply(x, h, w[0], w[1], b_ih, b_hh, reverse)
            else:
                out, hn = _RNNLayer.apply(x, h, w[0], w[1], b_ih, b_hh, reverse,
                                          mode == "RNN_RELU")
            outputs.append(out)
            h_n.append(hn)
        x = outputs[0] if directions == 1 else cat(outputs, 2)
        if dropout_p and train and layer < num_layers - 1:
            x = dropout(x, dropout_p, True)
    output = x.transpose(0, 1) if batch_first else x
    if mode == "LSTM":
        return output, stack(h_n, 0), stack(c_n, 0)
    return output, stack(h_n, 0)


def lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """torch.lstm: returns (output, h_n, c_n)."""
    if len(hx) != 2:
        raise RuntimeError("lstm expects two hidden states")
    proj = hx[0]._data.shape[-1] != hx[1]._data.shape[-1]
    return _run("LSTM", input, hx[0], hx[1], list(params), has_biases, num_layers, dropout,
                train, bidirectional, batch_first, proj)


def gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    """torch.gru: returns (output, h_n)."""
    return _run("GRU", input, hx, None, list(params), has_biases, num_layers, dropout, train,
                bidirectional, batch_first)


def rnn_tanh(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    """torch.rnn_tanh: returns (output, h_n)."""
    return _run("RNN_TANH", input, hx, None, list(params), has_biases, num_layers, dropout,
                train, bidirectional, batch_first)


def rnn_relu(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
             batch_first):
    """torch.rnn_relu: returns (output, h_n)."""
    return _run("RNN_RELU", input, hx, None, list(params), has_biases, num_layers, dropout,
                train, bidirectional, batch_first)


# ---------------------------------------------------------------- cells


def _check_cell(input, hiddens, w_ih, w_hh):
    """torch's checks of a cell's input and hidden states, in its order."""
    input_size = w_ih._data.shape[1]
    if input._data.shape[1] != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input._data.shape[1]} "
                           f"expected {input_size}")
    hidden_size = w_hh._data.shape[1]
    for label, h in enumerate(hiddens):
        if input._data.shape[0] != h._data.shape[0]:
            raise RuntimeError(f"Input batch size {input._data.shape[0]} doesn't match hidden"
                               f"{label} batch size {h._data.shape[0]}")
        if h._data.shape[1] != hidden_size:
            raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got "
                               f"{h._data.shape[1]}, expected {hidden_size}")
    _check_dtypes(input, w_ih)
    for h in hiddens:
        _check_dtypes(h, w_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.lstm_cell: one LSTM step; returns (h', c')."""
    if isinstance(hx, Tensor):
        raise TypeError("lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not "
                        "Tensor")
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    h, c = hx
    _check_cell(input, (h, c), w_ih, w_hh)
    gates = linear(h, w_hh, b_hh) + linear(input, w_ih, b_ih)
    i, f, g, o = gates.chunk(4, 1)
    c_next = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_next.tanh(), c_next


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.gru_cell: one GRU step; returns h'."""
    _check_cell(input, (hx,), w_ih, w_hh)
    i_r, i_z, i_n = linear(input, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = linear(hx, w_hh, b_hh).chunk(3, 1)
    reset = (h_r + i_r).sigmoid()
    update = (h_z + i_z).sigmoid()
    new = (i_n + h_n * reset).tanh()
    return (hx - new) * update + new


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.rnn_tanh_cell: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""
    _check_cell(input, (hx,), w_ih, w_hh)
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """torch.rnn_relu_cell: h' = relu(W_ih x + b_ih + W_hh h + b_hh)."""
    _check_cell(input, (hx,), w_ih, w_hh)
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()
