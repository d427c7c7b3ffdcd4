"""The time loops of the fused recurrent layers (LSTM, GRU, Elman RNN) on raw arrays.

One call runs one layer in one direction over a whole sequence; backward runs the reverse loop
(backpropagation through time). Both do one small matmul per step and the gate arithmetic in
NumPy ufuncs writing into preallocated buffers, and leave everything that is not recurrent to
a few large matmuls: the input projection of all steps before the loop, the weight gradients
after it (the per-step gate gradients are kept side by side, one column block per step).

Layouts, chosen for BLAS speed on small batches: gates and cell states are feature-major,
(gates, batch) per step, so the step's matmul is W_hh @ h.T; hidden states stay batch-major,
(T + 2, batch, hidden), so that the output and the h_prev operand of dW_hh are plain slices.
Row t + 1 holds h at time t; the initial state sits in row 0 (forward) or T + 1 (reverse), so
the previous state of time t is row t or t + 2 in either direction.

Sigmoids are computed as 0.5 * tanh(z / 2) + 0.5 with the 1/2 folded into a scaled copy of the
sigmoid gates' weight rows, so that one tanh covers all gates of a step. LSTM gates are kept in
the order (i, f, o, g) internally so the sigmoid gates are contiguous (torch's order is i, f,
g, o; swapping the last two blocks converts either way). Bias vectors are folded into the input
projection as an extra input column of ones, so their gradients come out of the dW_ih matmul.
"""

from .. import _backend as B


def _swap_last_blocks(w, hidden):
    """LSTM rows (i, f, g, o) <-> (i, f, o, g); the same swap converts back."""
    xp = B.get_array_module(w)
    return xp.concatenate((w[:2 * hidden], w[3 * hidden:], w[2 * hidden:3 * hidden]))


def _sigmoid_scale(xp, rows, sigmoid_rows, dtype):
    """A (rows, 1) column: 0.5 for the first `sigmoid_rows` rows (tanh-form sigmoid), else 1."""
    scale = xp.ones((rows, 1), dtype=dtype)
    scale[:sigmoid_rows] = 0.5
    return scale


def _with_ones_column(x2d):
    """[x, 1]: the input with a column of ones, so a bias rides along in the matmul."""
    xp = B.get_array_module(x2d)
    rows, cols = x2d.shape
    out = xp.empty((rows, cols + 1), dtype=x2d.dtype)
    out[:, :cols] = x2d
    out[:, cols] = 1
    return out


class Work:
    """What a layer's forward keeps for its backward (arrays in the layouts described above)."""

    __slots__ = ("mode", "reverse", "x_cols", "acts", "cells", "tanh_cells", "hidden",
                 "hh_extra", "w_ih", "w_hh", "w_hr", "proj_in", "bias", "shape")


def _state_rows(T, reverse):
    """Per step in processing order: (time t, row of the previous hidden state)."""
    if reverse:
        return [(t, t + 2) for t in range(T - 1, -1, -1)]
    return [(t, t) for t in range(T)]


def _init_hidden(xp, x, T, N, size, h0, reverse):
    hidden = xp.empty((T + 2, N, size), dtype=x.dtype)
    first = T + 1 if reverse else 0
    hidden[first] = 0 if h0 is None else h0
    return hidden


def _input_projection(x, w_ih, bias, scale):
    """(gates, T*N): scale * (W_ih @ x_t.T + bias) for every step, in one matmul."""
    T, N, size = x.shape
    xp = B.get_array_module(x)
    x_cols = x.reshape(T * N, size)
    weight = w_ih
    if bias is not None:
        x_cols = _with_ones_column(x_cols)
        weight = xp.concatenate((w_ih, bias[:, None]), axis=1)
    scaled = weight * scale if scale is not None else weight
    return scaled @ x_cols.T, x_cols


# ---------------------------------------------------------------- forward


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """One LSTM layer and direction. Returns (output, h_n, c_n, work)."""
    xp = B.get_array_module(x)
    T, N, _ = x.shape
    H = w_hh.shape[0] // 4
    P = w_hh.shape[1]
    dt = x.dtype
    scale = _sigmoid_scale(xp, 4 * H, 3 * H, dt)
    bias = None if b_ih is None else _swap_last_blocks(b_ih + b_hh, H)
    w_ih_p = _swap_last_blocks(w_ih, H)
    w_hh_p = _swap_last_blocks(w_hh, H)
    gates_x, x_cols = _input_projection(x, w_ih_p, bias, scale)
    w_hh_s = w_hh_p * scale
    acts = xp.empty((T, 4 * H, N), dtype=dt)
    cells = xp.empty((T + 2, H, N), dtype=dt)
    first = T + 1 if reverse else 0
    cells[first] = 0 if c0 is None else c0.T
    tanh_cells = xp.empty((T, H, N), dtype=dt)
    hidden = _init_hidden(xp, x, T, N, P, h0, reverse)
    proj_in = xp.empty((T, N, H), dtype=dt) if w_hr is not None else None
    scratch = xp.empty((H, N), dtype=dt)
    tanh, multiply, matmul = xp.tanh, xp.multiply, xp.matmul
    for t, p in _state_rows(T, reverse):
        a = acts[t]
        matmul(w_hh_s, hidden[p].T, out=a)
        a += gates_x[:, t * N:(t + 1) * N]
        tanh(a, out=a)
        sig = a[:3 * H]
        sig *= 0.5
        sig += 0.5
        c = cells[t + 1]
        multiply(a[H:2 * H], cells[p], out=c)
        multiply(a[:H], a[3 * H:], out=scratch)
        c += scratch
        tc = tanh_cells[t]
        tanh(c, out=tc)
        if w_hr is None:
            multiply(a[2 * H:3 * H], tc, out=hidden[t + 1].T)
        else:
            multiply(a[2 * H:3 * H], tc, out=proj_in[t].T)
            matmul(proj_in[t], w_hr.T, out=hidden[t + 1])
    last = 1 if reverse else T
    work = Work()
    work.mode, work.reverse, work.shape = "LSTM", reverse, (T, N, H, P)
    work.x_cols, work.acts, work.cells, work.tanh_cells = x_cols, acts, cells, tanh_cells
    work.hidden, work.w_ih, work.w_hh, work.w_hr = hidden, w_ih_p, w_hh_p, w_hr
    work.proj_in, work.bias = proj_in, bias is not None
    return (hidden[1:T + 1].copy(), hidden[last].copy(), xp.ascontiguousarray(cells[last].T),
            work)


def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
    """One GRU layer and direction (gates r, z, n as torch). Returns (output, h_n, work)."""
    xp = B.get_array_module(x)
    T, N, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    scale = _sigmoid_scale(xp, 3 * H, 2 * H, dt)
    gates_x, x_cols = _input_projection(x, w_ih, b_ih, scale)
    w_hh_s = w_hh * scale
    b_hh_s = None if b_hh is None else b_hh[:, None] * scale
    acts = xp.empty((T, 3 * H, N), dtype=dt)
    gates_h = xp.empty((T, 3 * H, N), dtype=dt)  # W_hh h + b_hh, its n rows enter backward
    hidden = _init_hidden(xp, x, T, N, H, h0, reverse)
    scratch = xp.empty((H, N), dtype=dt)
    tanh, multiply, subtract = xp.tanh, xp.multiply, xp.subtract
    for t, p in _state_rows(T, reverse):
        a, gh = acts[t], gates_h[t]
        h_prev = hidden[p].T
        xp.matmul(w_hh_s, h_prev, out=gh)
        if b_hh_s is not None:
            gh += b_hh_s
        cols = slice(t * N, (t + 1) * N)
        rz = a[:2 * H]
        xp.add(gh[:2 * H], gates_x[:2 * H, cols], out=rz)
        tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        n = a[2 * H:]
        multiply(a[:H], gh[2 * H:], out=n)
        n += gates_x[2 * H:, cols]
        tanh(n, out=n)
        subtract(h_prev, n, out=scratch)
        scratch *= a[H:2 * H]
        xp.add(n, scratch, out=hidden[t + 1].T)
    work = Work()
    work.mode, work.reverse, work.shape = "GRU", reverse, (T, N, H, H)
    work.x_cols, work.acts, work.hh_extra, work.hidden = x_cols, acts, gates_h, hidden
    work.w_ih, work.w_hh, work.bias = w_ih, w_hh, b_ih is not None
    last = 1 if reverse else T
    return hidden[1:T + 1].copy(), hidden[last].copy(), work


def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, reverse, relu):
    """One Elman RNN layer and direction (tanh or relu). Returns (output, h_n, work)."""
    xp = B.get_array_module(x)
    T, N, _ = x.shape
    H = w_hh.shape[0]
    bias = None if b_ih is None else b_ih + b_hh
    gates_x, x_cols = _input_projection(x, w_ih, bias, None)
    acts = xp.empty((T, H, N), dtype=x.dtype)
    hidden = _init_hidden(xp, x, T, N, H, h0, reverse)
    for t, p in _state_rows(T, reverse):
        a = acts[t]
        xp.matmul(w_hh, hidden[p].T, out=a)
        a += gates_x[:, t * N:(t + 1) * N]
        if relu:
            xp.maximum(a, 0, out=a)
        else:
            xp.tanh(a, out=a)
        hidden[t + 1].T[...] = a
    work = Work()
    work.mode, work.reverse, work.shape = "RNN_RELU" if relu else "RNN_TANH", reverse, (
        T, N, H, H)
    work.x_cols, work.acts, work.hidden = x_cols, acts, hidden
    work.w_ih, work.w_hh, work.bias = w_ih, w_hh, bias is not None
    last = 1 if reverse else T
    return hidden[1:T + 1].copy(), hidden[last].copy(), work


# ---------------------------------------------------------------- backward


def _start_grad(xp, grad, rows, N, dt):
    """A running state gradient, feature-major (rows, N), from an optional (N, rows) grad."""
    if grad is None:
        return xp.zeros((rows, N), dtype=dt)
    return xp.ascontiguousarray(grad.T)


def _prev_hidden(work):
    """h_prev of every time step, time-ordered, as (T*N, hidden) for dW_hh."""
    T, N, _, P = work.shape
    rows = work.hidden[2:T + 2] if work.reverse else work.hidden[:T]
    return rows.reshape(T * N, P)


def _weight_grads(work, d_x_gates, d_h_gates, need_x, need_w):
    """dx, dW_ih, db_ih (from the input-side gate grads) and dW_hh (from the recurrent ones);
    None for those not needed."""
    T, N, _, _ = work.shape
    dx = dw_ih = db = dw_hh = None
    if need_w:
        dw_ih = d_x_gates @ work.x_cols
        if work.bias:
            db = dw_ih[:, -1].copy()
            dw_ih = dw_ih[:, :-1].copy()
        dw_hh = d_h_gates @ _prev_hidden(work)
    if need_x:
        dx = (d_x_gates.T @ work.w_ih).reshape(T, N, -1)
    return dx, dw_ih, db, dw_hh


def lstm_backward(work, d_out, d_hn, d_cn, need_x, need_w):
    """Returns (dx, dh0, dc0, dW_ih, dW_hh, db (for b_ih and b_hh alike), dW_hr)."""
    xp = B.get_array_module(work.acts)
    T, N, H, P = work.shape
    dt = work.acts.dtype
    acts, cells, tanh_cells, w_hr = work.acts, work.cells, work.tanh_cells, work.w_hr
    dh = _start_grad(xp, d_hn, P, N, dt)
    dc = _start_grad(xp, d_cn, H, N, dt)
    d_gates = xp.empty((4 * H, T * N), dtype=dt)
    d = xp.empty((4 * H, N), dtype=dt)
    scratch = xp.empty((H, N), dtype=dt)
    d_proj = None
    if w_hr is not None:
        d_proj = xp.empty((P, T * N), dtype=dt)
        d_raw = xp.empty((H, N), dtype=dt)
    w_hh_t = work.w_hh.T
    multiply, subtract = xp.multiply, xp.subtract
    for t, p in reversed(_state_rows(T, work.reverse)):
        cols = slice(t * N, (t + 1) * N)
        if d_out is not None:
            dh += d_out[t].T
        if w_hr is None:
            d_raw = dh
        else:
            d_proj[:, cols] = dh
            xp.matmul(w_hr.T, dh, out=d_raw)
        a, tc = acts[t], tanh_cells[t]
        sig = d[:3 * H]
        subtract(1, a[:3 * H], out=sig)
        sig *= a[:3 * H]  # sigmoid'(z) = s (1 - s) for i, f, o
        multiply(tc, tc, out=scratch)
        subtract(1, scratch, out=scratch)
        scratch *= a[2 * H:3 * H]
        scratch *= d_raw
        dc += scratch  # through h = o * tanh(c)
        d_o = d[2 * H:3 * H]
        d_o *= tc
        d_o *= d_raw
        d[:H] *= a[3 * H:]
        d[H:2 * H] *= cells[p]
        d_if = d[:2 * H].reshape(2, H, N)
        d_if *= dc
        d_g = d[3 * H:]
        multiply(a[3 * H:], a[3 * H:], out=d_g)
        subtract(1, d_g, out=d_g)
        d_g *= a[:H]
        d_g *= dc
        dc *= a[H:2 * H]
        xp.matmul(w_hh_t, d, out=dh)
        d_gates[:, cols] = d
    dx, dw_ih, db, dw_hh = _weight_grads(work, d_gates, d_gates, need_x, need_w)
    dw_hr = None
    if need_w:
        dw_ih, dw_hh = _swap_last_blocks(dw_ih, H), _swap_last_blocks(dw_hh, H)
        if db is not None:
            db = _swap_last_blocks(db, H)
        if w_hr is not None:
            dw_hr = d_proj @ work.proj_in.reshape(T * N, H)
    return dx, xp.ascontiguousarray(dh.T), xp.ascontiguousarray(dc.T), dw_ih, dw_hh, db, dw_hr


def gru_backward(work, d_out, d_hn, need_x, need_w):
    """Returns (dx, dh0, dW_ih, dW_hh, db_ih, db_hh)."""
    xp = B.get_array_module(work.acts)
    T, N, H, _ = work.shape
    dt = work.acts.dtype
    acts, gates_h, hidden = work.acts, work.hh_extra, work.hidden
    dh = _start_grad(xp, d_hn, H, N, dt)
    d_h_gates = xp.empty((3 * H, T * N), dtype=dt)
    d_x_gates = xp.empty((3 * H, T * N), dtype=dt)
    d = xp.empty((3 * H, N), dtype=dt)
    d_n = xp.empty((H, N), dtype=dt)
    scratch = xp.empty((H, N), dtype=dt)
    through = xp.empty((H, N), dtype=dt)
    w_hh_t = work.w_hh.T
    multiply, subtract = xp.multiply, xp.subtract
    for t, p in reversed(_state_rows(T, work.reverse)):
        cols = slice(t * N, (t + 1) * N)
        if d_out is not None:
            dh += d_out[t].T
        a = acts[t]
        r, z, n = a[:H], a[H:2 * H], a[2 * H:]
        d_z = d[H:2 * H]  # dh (h_prev - n) z (1 - z)
        subtract(hidden[p].T, n, out=d_z)
        d_z *= dh
        subtract(1, z, out=scratch)
        d_z *= scratch
        d_z *= z
        multiply(n, n, out=d_n)  # dh (1 - z) (1 - n^2)
        subtract(1, d_n, out=d_n)
        d_n *= scratch
        d_n *= dh
        d_r = d[:H]  # d_n (W_hn h + b_hn) r (1 - r)
        subtract(1, r, out=d_r)
        d_r *= r
        d_r *= gates_h[t][2 * H:]
        d_r *= d_n
        multiply(d_n, r, out=d[2 * H:])
        dh *= z
        xp.matmul(w_hh_t, d, out=through)
        dh += through
        d_h_gates[:, cols] = d
        d_x_gates[:2 * H, cols] = d[:2 * H]
        d_x_gates[2 * H:, cols] = d_n
    dx, dw_ih, db_ih, dw_hh = _weight_grads(work, d_x_gates, d_h_gates, need_x, need_w)
    db_hh = d_h_gates.sum(1) if work.bias and need_w else None
    return dx, xp.ascontiguousarray(dh.T), dw_ih, dw_hh, db_ih, db_hh


def rnn_backward(work, d_out, d_hn, need_x, need_w):
    """Returns (dx, dh0, dW_ih, dW_hh, db (for b_ih and b_hh alike))."""
    xp = B.get_array_module(work.acts)
    T, N, H, _ = work.shape
    dt = work.acts.dtype
    acts = work.acts
    relu = work.mode == "RNN_RELU"
    dh = _start_grad(xp, d_hn, H, N, dt)
    d_gates = xp.empty((H, T * N), dtype=dt)
    d = xp.empty((H, N), dtype=dt)
    for t, _ in reversed(_state_rows(T, work.reverse)):
        if d_out is not None:
            dh += d_out[t].T
        a = acts[t]
        if relu:
            xp.multiply(dh, a > 0, out=d)
        else:
            xp.multiply(a, a, out=d)
            xp.subtract(1, d, out=d)
            d *= dh
        xp.matmul(work.w_hh.T, d, out=dh)
        d_gates[:, t * N:(t + 1) * N] = d
    dx, dw_ih, db, dw_hh = _weight_grads(work, d_gates, d_gates, need_x, need_w)
    return dx, xp.ascontiguousarray(dh.T), dw_ih, dw_hh, db
