"""nn.Module, Parameter and containers against torch: registration, iteration order,
state_dict keys and errors, hooks, modes, printing."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import disttorch

FRAMEWORKS = [torch, disttorch]
W = np.arange(6, dtype=np.float32).reshape(2, 3) / 10


def build(m):
    class Block(m.nn.Module):
        def __init__(self, scale):
            super().__init__()
            self.weight = m.nn.Parameter(m.tensor(W * scale))
            self.register_buffer("running", m.zeros(3))
            self.register_buffer("scratch", m.ones(2), persistent=False)

        def forward(self, x):
            return (x * self.weight).sum(1)

    class Net(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Block(1.0)
            self.blocks = m.nn.ModuleList([Block(2.0), Block(3.0)])
            self.table = m.nn.ModuleDict({"b": Block(4.0)})
            self.seq = m.nn.Sequential(OrderedDict([("inner", Block(5.0))]))
            self.bias = m.nn.Parameter(m.zeros(2))
            self.plist = m.nn.ParameterList([m.nn.Parameter(m.ones(1))])
            self.pdict = m.nn.ParameterDict({"p": m.nn.Parameter(m.ones(2))})

        def forward(self, x):
            return self.first(x) + self.bias

    return Net()


def test_iteration_order_and_names():
    nets = [build(m) for m in FRAMEWORKS]
    for attr in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        names = [[n for n, _ in getattr(net, attr)()] for net in nets]
        assert names[0] == names[1], attr
    assert [n for n, _ in nets[0].first.named_parameters(prefix="x")] == \
        [n for n, _ in nets[1].first.named_parameters(prefix="x")]


def test_state_dict_keys_and_values():
    nets = [build(m) for m in FRAMEWORKS]
    sds = [net.state_dict() for net in nets]
    assert list(sds[0]) == list(sds[1])
    for key in sds[0]:
        np.testing.assert_array_equal(sds[0][key].numpy(), sds[1][key].numpy())
        assert not sds[1][key].requires_grad
    assert sds[1]["first.weight"].data_ptr() == nets[1].first.weight.data_ptr()
    keep = nets[1].state_dict(keep_vars=True)
    assert keep["bias"] is nets[1].bias


def _load_error(m, state, strict=True):
    net = build(m)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state(m, net), strict=strict)
    return str(info.value)


@pytest.mark.parametrize("state", [
    lambda m, net: {k: v for k, v in net.state_dict().items() if k != "bias"},
    lambda m, net: {**net.state_dict(), "extra.weight": m.zeros(1)},
    lambda m, net: {**net.state_dict(), "bias": m.zeros(5)},
])
def test_load_state_dict_errors_match_torch(state):
    assert _load_error(torch, state) == _load_error(disttorch, state)


def test_load_state_dict_non_strict_and_copy():
    results = []
    for m in FRAMEWORKS:
        net = build(m)
        state = net.state_dict()
        state = {k: v * 2 for k, v in state.items() if k != "bias"}
        state["junk"] = m.zeros(1)
        result = net.load_state_dict(state, strict=False)
        results.append((result.missing_keys, result.unexpected_keys,
                        net.first.weight.detach().numpy().copy()))
    assert results[0][:2] == results[1][:2]
    np.testing.assert_allclose(results[0][2], results[1][2])
    assert repr(build(disttorch).load_state_dict(build(disttorch).state_dict())) == \
        "<All keys matched successfully>"


def test_repr_matches_torch():
    class Leafy(torch.nn.Module):
        def extra_repr(self):
            return "size=3"

    class Leafy2(disttorch.nn.Module):
        def extra_repr(self):
            return "size=3"

    def tree(m, leaf):
        return m.nn.Sequential(
            m.nn.ModuleList([leaf(), leaf(), leaf(), m.nn.Module()]),
            m.nn.ModuleDict({"a": leaf()}),
            m.nn.Sequential(),
            m.nn.ParameterList([m.nn.Parameter(m.ones(2, 3)), m.nn.Parameter(m.ones(1))]),
            m.nn.ParameterDict({"w": m.nn.Parameter(m.zeros(4))}),
        )

    Leafy2.__name__ = "Leafy"
    assert repr(tree(disttorch, Leafy2)) == repr(tree(torch, Leafy))
    assert repr(build(disttorch)) == repr(build(torch)).replace("Net(", "Net(")


def test_parameter_and_buffer_behaviour():
    for m in FRAMEWORKS:
        p = m.nn.Parameter(m.ones(2))
        assert isinstance(p, m.Tensor) and p.requires_grad and p.is_leaf
        assert repr(p).startswith("Parameter containing:\ntensor([1., 1.]")
        assert not m.nn.Parameter(m.ones(2), requires_grad=False).requires_grad
    assert repr(disttorch.nn.Parameter(disttorch.ones(2))) == \
        repr(torch.nn.Parameter(torch.ones(2)))


def test_setattr_errors_match_torch():
    msgs = []
    for m in FRAMEWORKS:
        net = build(m)
        with pytest.raises(TypeError) as info:
            net.bias = m.zeros(2)
        msgs.append(str(info.value))
        with pytest.raises(AttributeError) as info:
            net.missing_attribute
        msgs.append(str(info.value))
        with pytest.raises(KeyError) as info:
            net.register_buffer("a.b", m.zeros(1))
        msgs.append(str(info.value))
    assert msgs[:3] == msgs[3:]


def test_train_eval_apply_requires_grad_zero_grad():
    for m in FRAMEWORKS:
        net = build(m)
        net.eval()
        assert not any(mod.training for mod in net.modules())
        net.train()
        assert all(mod.training for mod in net.modules())
        seen = []
        net.apply(lambda mod: seen.append(type(mod).__name__))
        assert seen[-1] == "Net" and seen[0] == "Block"
        net.requires_grad_(False)
        assert not any(p.requires_grad for p in net.parameters())
        net.requires_grad_(True)
        out = net(m.ones(2, 3)).sum()
        out.backward()
        assert net.first.weight.grad is not None
        net.zero_grad()
        assert net.first.weight.grad is None


def test_forward_hooks():
    outs = []
    for m in FRAMEWORKS:
        net = build(m)
        calls = []
        h1 = net.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        h2 = net.register_forward_hook(lambda mod, args, out: out + 1)
        net.register_forward_hook(lambda mod, args, out: calls.append("first"), prepend=True)
        y = net(m.ones(2, 3))
        h1.remove()
        h2.remove()
        z = net(m.ones(2, 3))
        outs.append((y.detach().numpy(), z.detach().numpy(), calls))
    np.testing.assert_allclose(outs[0][0], outs[1][0])
    np.testing.assert_allclose(outs[0][1], outs[1][1])
    assert outs[0][2] == outs[1][2]


def test_sequential_list_dict_operations():
    for m in FRAMEWORKS:
        a, b, c = m.nn.Module(), m.nn.Module(), m.nn.Module()
        seq = m.nn.Sequential(a, b)
        seq.append(c)
        assert len(seq) == 3 and seq[-1] is c and list(seq[1:]) == [b, c]
        del seq[0]
        assert list(seq._modules) == ["0", "1"] and seq[0] is b
        ml = m.nn.ModuleList([a])
        ml.extend([b])
        ml.insert(0, c)
        assert list(ml) == [c, a, b]
        md = m.nn.ModuleDict({"x": a})
        md["y"] = b
        assert list(md.keys()) == ["x", "y"] and "x" in md and md.pop("x") is a


def test_to_keeps_parameter_identity_and_converts_dtype():
    net = build(disttorch)
    weight = net.first.weight
    net.double()
    assert net.first.weight is weight and weight.dtype == disttorch.float64
    assert net.first.running.dtype == disttorch.float64
    net.to(disttorch.float32)
    assert weight.dtype == disttorch.float32
    with pytest.raises(TypeError):
        net.to(disttorch.int64)
