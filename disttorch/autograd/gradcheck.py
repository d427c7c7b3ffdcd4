"""gradcheck / gradgradcheck: compare analytical gradients with finite differences."""

import numpy as np

from .._tensor import Tensor
from .engine import grad as autograd_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients differ."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _differentiable_outputs(outputs):
    return [o for o in outputs if isinstance(o, Tensor) and o._requires_grad]


def _numerical_jacobian(fn, inputs, index, eps):
    """d(flattened outputs)/d(inputs[index]) by central differences."""
    x = inputs[index]
    flat = x._data.reshape(-1)
    columns = []
    # grad stays on: gradgradcheck's function differentiates inside
    for j in range(flat.size):
        original = flat[j].item()
        flat[j] = original + eps
        plus = [o._data.astype(np.float64).ravel().copy() for o in
                _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
        flat[j] = original - eps
        minus = [o._data.astype(np.float64).ravel().copy() for o in
                 _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
        flat[j] = original
        columns.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
    return np.stack(columns, axis=1) if columns else np.zeros((0, 0))


def _analytical_jacobian(outputs, inputs, index):
    rows = []
    target = inputs[index]
    for out in outputs:
        flat_size = out._data.size
        if not out._requires_grad:  # an output independent of the inputs: zero rows
            rows.extend(np.zeros(target._data.size) for _ in range(flat_size))
            continue
        for k in range(flat_size):
            seed = np.zeros(out._data.shape, dtype=out._data.dtype)
            seed.reshape(-1)[k] = 1
            (g,) = autograd_grad((out,), (target,), (Tensor._wrap(seed),), retain_graph=True,
                                 allow_unused=True)
            rows.append(np.zeros(target._data.size) if g is None
                        else g._data.astype(np.float64).ravel())
    return np.stack(rows, axis=0) if rows else np.zeros((0, target._data.size))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, fast_mode=False, **unused):
    """torch.autograd.gradcheck for real inputs: True, or GradcheckError / False."""
    inputs = _as_tuple(inputs)
    grad_inputs = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]
    for i in grad_inputs:
        if inputs[i]._data.dtype != np.float64:
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point. This check will likely fail if all the inputs are not of "
                          "double precision floating point.", stacklevel=2)
    outputs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    for i in grad_inputs:
        numerical = _numerical_jacobian(func, inputs, i, eps)
        analytical = _analytical_jacobian(outputs, inputs, i)
        if numerical.shape != analytical.shape or not np.allclose(
                analytical, numerical, rtol=rtol, atol=atol):
            if not raise_exception:
                return False
            raise GradcheckError(
                f"Jacobian mismatch for output 0 with respect to input {i},\n"
                f"numerical:{numerical}\nanalytical:{analytical}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, **unused):
    """torch.autograd.gradgradcheck: gradcheck of the first derivative (create_graph).

    As in torch, the grad_outputs are inputs of the checked function too, so the second
    derivative is checked with respect to both the inputs and the output gradients.
    """
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_as_tuple(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._wrap(rng.standard_normal(o._data.shape).astype(
            o._data.dtype)) for o in outputs)
    grad_outputs = tuple(g.detach().requires_grad_(True) for g in _as_tuple(grad_outputs))
    n_inputs = len(inputs)
    if not any(isinstance(t, Tensor) and t._requires_grad for t in inputs):
        raise ValueError("gradgradcheck expects at least one input that requires grad")

    def first_derivative(*args):
        xs, gs = args[:n_inputs], args[n_inputs:]
        outs = _differentiable_outputs(_as_tuple(func(*xs)))
        wrt = [t for t in xs if isinstance(t, Tensor) and t._requires_grad]
        grads = autograd_grad(outs, wrt, gs, create_graph=True, allow_unused=True)
        return tuple(Tensor._wrap(t._data * 0) if g is None else g for g, t in zip(grads, wrt))

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
