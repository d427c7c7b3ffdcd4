"""The backward engine: a dependency-counted traversal of the graph from the roots.

Nodes run when every consumer has sent them its gradient, most recently created first (the
order torch uses); AccumulateGrad nodes run as soon as they are ready, which is what lets DDP
start a bucket's all-reduce while the rest of backward goes on. Graph parents are kept in
tuples and the traversal is iterative, so the order is the same in every process and deep
graphs do not hit the recursion limit.
"""

import heapq

from .. import _backend as B
from .._tensor import Tensor
from .function import AccumulateGrad, RemovableHandle, accumulator_of
from .grad_mode import state

_callback_stack = []


def queue_callback(callback):
    """Run `callback()` once the current backward pass has finished (DDP uses this)."""
    if not _callback_stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _callback_stack[-1].append(callback)


def _graph_root(t):
    fn = t._grad_fn
    if fn is not None:
        return fn, t._output_nr
    return accumulator_of(t), 0


def _ones_like(t):
    xp = B.get_array_module(t._data)
    return Tensor._wrap(xp.ones(t._data.shape, dtype=t._data.dtype))


def _make_root_grads(outputs, grads, is_grads_batched=False):
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar "
                                   f"outputs but got {out.dtype}")
            g = _ones_like(out)
        elif not isinstance(g, Tensor):
            g = Tensor._wrap(B.get_array_module(out._data).asarray(g, dtype=out._data.dtype))
        elif g._data.shape != out._data.shape:
            from .._tensor import Size

            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)} and "
                f"output[{i}] has a shape of {Size(out._data.shape)}.")
        result.append(g)
    return result


def _owner_id(array):
    while array.base is not None and hasattr(array.base, "shape"):
        array = array.base
    return id(array)


def _needed_nodes(roots, targets):
    """Nodes on some path from a root to a target node (post-order, iterative)."""
    needed = {}
    stack = [(node, False) for node, _ in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            needed[node] = node in targets or any(
                needed.get(child, False) for child, _ in node._next if child is not None)
            continue
        if node in needed:
            continue
        needed[node] = False  # provisional, stops cycles through shared subgraphs
        stack.append((node, True))
        for child, _ in node._next:
            if child is not None and child not in needed:
                stack.append((child, False))
    return {node for node, flag in needed.items() if flag}


def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None,
                 capture=False, allow_unused=False):
    """Shared implementation of Tensor.backward, autograd.backward and autograd.grad.

    With `capture`, returns the gradients of `inputs` instead of accumulating into `.grad`.
    """
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               "have a grad_fn")
    roots = [_graph_root(o) for o in outputs]
    root_grads = _make_root_grads(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph

    # inputs: where gradients are captured (autograd.grad) or the only leaves accumulated
    captures = {}  # (node, output_nr) -> index in inputs
    targets = None
    if inputs is not None:
        targets = set()
        for i, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = _graph_root(t)
            targets.add(node)
            if capture or t._grad_fn is not None:
                captures[(node, nr)] = i
    captured = [None] * (len(inputs) if inputs is not None else 0)

    # dependency counts over the reachable graph
    deps = {}
    stack = list(dict.fromkeys(node for node, _ in roots))  # one visit per distinct root node
    seen = set(stack)
    while stack:
        node = stack.pop()
        for child, _ in node._next:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    needed = None if targets is None else _needed_nodes(roots, targets)

    buffers = {}
    for (node, nr), g in zip(roots, root_grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * len(node._out_meta)
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    stored = {_owner_id(g._data) for g in root_grads}  # arrays a .grad must not alias
    callbacks = []
    _callback_stack.append(callbacks)
    previous = state.enabled
    state.enabled = create_graph
    executed = []
    try:
        ready = []
        for node in buffers:
            if deps.get(node, 0) == 0:
                heapq.heappush(ready, (-node._seq, id(node), node))
        push, pop = heapq.heappush, heapq.heappop
        node = None  # a node to run next without going through the heap
        while node is not None or ready:
            if node is None:
                node = pop(ready)[2]
            grads = buffers.pop(node)
            if type(node) is AccumulateGrad:
                _run_accumulate(node, grads[0], captures, captured, needed, create_graph,
                                stored)
                node = None
                continue
            executed.append(node)
            if node._pre_hooks or node._retain_hooks or node._node_prehooks or captures:
                grads = _run_pre_hooks(node, grads, captures, captured)
            if needed is not None and node not in needed:
                in_grads = (None,) * len(node._next)
            elif node._is_op and not node._hooks and _all_present(grads):
                in_grads = node.backward(node, *grads)
                if type(in_grads) is not tuple:
                    in_grads = (in_grads,)
            else:
                in_grads = _call_backward(node, grads)
            follow = None
            for (child, nr), g in zip(node._next, in_grads):
                if child is None:
                    continue
                if g is not None:
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * len(child._out_meta)
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                left = deps[child] - 1
                deps[child] = left
                if left == 0:
                    if child in buffers:
                        if type(child) is AccumulateGrad:
                            _run_accumulate(child, buffers.pop(child)[0], captures, captured,
                                            needed, create_graph, stored)
                        elif follow is None:
                            follow = child
                        else:
                            push(ready, (-child._seq, id(child), child))
                    else:
                        _skip(child, deps, buffers, ready)
            # a chain's single ready child runs next directly when it is also the newest
            # ready node (the order the heap would give), saving a push and a pop
            if follow is not None and ready and -ready[0][0] > follow._seq:
                push(ready, (-follow._seq, id(follow), follow))
                follow = None
            node = follow
        for callback in callbacks:
            callback()
    finally:
        state.enabled = previous
        _callback_stack.pop()
        if not retain_graph:
            for node in executed:
                if node._saved or node._out_saved is not None:
                    node._release()

    if not capture and inputs is not None:
        for t, g in zip(inputs, captured):  # non-leaf inputs of backward(inputs=...)
            if g is not None and t._grad_fn is not None:
                t._grad = g if t._grad is None else t._grad + g
    if capture:
        for i, g in enumerate(captured):
            if g is None and not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in "
                    "the graph. Set allow_unused=True if this is the desired behavior.")
        return tuple(captured)
    return None


def _all_present(grads):
    """No missing gradient (identity tests: `None in grads` would call Tensor.__eq__)."""
    for g in grads:
        if g is None:
            return False
    return True


def _skip(node, deps, buffers, ready):
    """A node that received no gradient at all: release its children without running it."""
    stack = [node]
    while stack:
        node = stack.pop()
        for child, _ in node._next:
            if child is None:
                continue
            left = deps[child] - 1
            deps[child] = left
            if left == 0:
                if child in buffers:
                    heapq.heappush(ready, (-child._seq, id(child), child))
                else:
                    stack.append(child)


def _run_pre_hooks(node, grads, captures, captured):
    hooks = node._pre_hooks
    if hooks:
        for nr, per_output in hooks.items():
            for hook in list(per_output.values()):
                if grads[nr] is None:
                    continue
                result = hook(grads[nr])
                if result is not None:
                    grads[nr] = result
    if node._retain_hooks:
        for nr, ref in node._retain_hooks.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                g = grads[nr]
                if t._grad is None:
                    t._grad = g.clone() if state.enabled else Tensor._wrap(g._data.copy())
                else:
                    t._grad = t._grad + g
    if node._node_prehooks:
        for hook in list(node._node_prehooks.values()):
            result = hook(tuple(grads))
            if result is not None:
                grads = list(result)
    if captures:
        for nr in range(len(grads)):
            index = captures.get((node, nr))
            if index is not None:
                captured[index] = grads[nr]
    return grads


def _call_backward(node, grads):
    if not grads:  # a node whose outputs were all non-differentiable
        grads = [None]
    if node.materialize_grads and not _all_present(grads):
        xp = B.get_array_module(*[g._data for g in grads if g is not None])
        for nr, g in enumerate(grads):
            meta = node._out_meta[nr]
            if g is None and meta is not None:
                grads[nr] = Tensor._wrap(xp.zeros(meta[0], dtype=meta[1]))
    result = node.backward(node, *grads)
    if type(result) is not tuple:
        result = (result,)
    n_inputs = len(node._next)
    if len(result) != n_inputs:
        if len(result) > n_inputs and not any(r is not None for r in result[n_inputs:]):
            result = result[:n_inputs]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of "
                               f"gradients (expected {n_inputs}, got {len(result)})")
    if not node._is_op:
        result = _check_custom_grads(node, result)
    if node._hooks:
        for hook in list(node._hooks.values()):
            replaced = hook(result, tuple(grads))
            if replaced is not None:
                result = tuple(replaced)
    return result


def _check_custom_grads(node, result):
    checked = []
    for i, ((child, _), g) in enumerate(zip(node._next, result)):
        if g is not None and not isinstance(g, Tensor):
            raise TypeError(f"expected Tensor or None as gradient {i} of {node.name()}, got "
                            f"{type(g).__name__}")
        if child is not None and g is not None:
            expected = _input_shape(child, node, i)
            if expected is not None and g._data.shape != expected:
                if g._data.size == _numel(expected):
                    g = g.reshape(expected)
                else:
                    raise RuntimeError(
                        f"Function {node.name()} returned an invalid gradient at index {i} - "
                        f"got {list(g._data.shape)} but expected shape compatible with "
                        f"{list(expected)}")
        checked.append(g if child is not None else None)
    return tuple(checked)


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _input_shape(child, node, i):
    if type(child) is AccumulateGrad:
        return child.variable._data.shape
    nr = node._next[i][1]
    meta = child._out_meta
    return meta[nr][0] if nr < len(meta) and meta[nr] is not None else None


def _run_accumulate(node, grad, captures, captured, needed, create_graph, stored):
    variable = node.variable
    hooks = variable._hooks
    if hooks:
        for hook in list(hooks.values()):
            result = hook(grad)
            if result is not None:
                grad = result
    index = captures.get((node, 0)) if captures else None
    if index is not None:  # autograd.grad: captured instead of accumulated
        captured[index] = grad
        return
    if needed is not None and node not in needed:
        return
    if grad is None:
        return
    current = variable._grad
    if current is None:
        data = grad._data
        owner = _owner_id(data)
        if owner in stored or not getattr(data.flags, "writeable", True) or \
                not data.flags.c_contiguous:
            grad = grad.clone() if create_graph else Tensor._wrap(data.copy())
            owner = _owner_id(grad._data)
        elif not create_graph and grad._grad_fn is not None:
            grad = Tensor._wrap(data)
        stored.add(owner)
        variable._grad = grad
    elif create_graph:
        variable._grad = current + grad
    else:
        current._data += grad._data
        current._version[0] += 1
    post = variable._post_acc_hooks
    if post:
        for hook in list(post.values()):
            hook(variable)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None):
    """torch.autograd.backward."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, tuple(grad_tensors), retain_graph, create_graph, inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs."""
    single_input = isinstance(inputs, Tensor)
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if single_input else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if allow_unused is None:
        allow_unused = materialize_grads
    result = run_backward(outputs, tuple(grad_outputs), retain_graph, create_graph,
                          inputs=inputs, capture=True, allow_unused=allow_unused)
    if materialize_grads:
        result = tuple(
            Tensor._wrap(B.get_array_module(t._data).zeros_like(t._data)) if g is None else g
            for g, t in zip(result, inputs))
    return result


def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Tensor.backward."""
    backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph,
             inputs=inputs)


def _register_hook(self, hook):
    """Tensor.register_hook: runs on the gradient of this tensor; may return a new one."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    fn = self._grad_fn
    if fn is not None:
        return fn._add_tensor_hook(self._output_nr, hook)
    if self._hooks is None:
        self._hooks = {}
    handle = RemovableHandle(self._hooks)
    self._hooks[handle.id] = hook
    return handle


def _register_post_accumulate_grad_hook(self, hook):
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                           "tensors")
    if self._post_acc_hooks is None:
        self._post_acc_hooks = {}
    handle = RemovableHandle(self._post_acc_hooks)
    self._post_acc_hooks[handle.id] = hook
    return handle


def _retain_grad(self):
    import weakref

    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self._grad_fn is None or self._retains_grad:
        return
    fn = self._grad_fn
    if fn._retain_hooks is None:
        fn._retain_hooks = {}
    fn._retain_hooks[self._output_nr] = weakref.ref(self)
    self._retains_grad = True


Tensor.backward = tensor_backward
Tensor.register_hook = _register_hook
Tensor.register_post_accumulate_grad_hook = _register_post_accumulate_grad_hook
Tensor.retain_grad = _retain_grad
