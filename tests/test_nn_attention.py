"""Attention against torch: scaled_dot_product_attention (fused 4-D path and math path, masks,
causal, GQA; values, gradients, float64 gradchecks, node names, errors), MultiheadAttention
and the Transformer modules (outputs and gradients after loading torch's state_dict, in
training mode with dropout 0 and in eval mode, state_dict keys, reprs, errors)."""

import math
import warnings

import numpy as np
import pytest
import torch
from oracle import RNG, arr, assert_same, check, check_error, gradcheck_op

import disttorch

FRAMEWORKS = (torch, disttorch)


def sdpa(m):
    return m.nn.functional.scaled_dot_product_attention


def bool_mask(*shape, keep_first=True):
    mask = RNG.random(shape) > 0.4
    if keep_first:
        mask[..., 0] = True
    return mask


MASKED_ROW = bool_mask(4, 5)
MASKED_ROW[2] = False  # a query that may attend nothing: zeros, as torch's safe softmax

SDPA_ROWS = {
    "self": (lambda m, q: sdpa(m)(q, q, q), (arr(2, 3, 4, 8),)),
    "cross": (lambda m, q, k, v: sdpa(m)(q, k, v), (arr(2, 3, 4, 8), arr(2, 3, 5, 8),
                                                    arr(2, 3, 5, 8))),
    "causal": (lambda m, q, k, v: sdpa(m)(q, k, v, is_causal=True),
               (arr(1, 2, 4, 8), arr(1, 2, 6, 8), arr(1, 2, 6, 8))),
    "scale": (lambda m, q, k, v: sdpa(m)(q, k, v, scale=0.3),
              (arr(2, 1, 3, 4), arr(2, 1, 3, 4), arr(2, 1, 3, 4))),
    "bool_mask": (lambda m, q, k, v, mask: sdpa(m)(q, k, v, attn_mask=mask),
                  (arr(2, 2, 4, 8), arr(2, 2, 5, 8), arr(2, 2, 5, 8), MASKED_ROW)),
    "bool_mask_4d": (lambda m, q, k, v, mask: sdpa(m)(q, k, v, attn_mask=mask),
                     (arr(2, 2, 4, 8), arr(2, 2, 5, 8), arr(2, 2, 5, 8),
                      bool_mask(2, 1, 4, 5))),
    "float_mask": (lambda m, q, k, v, mask: sdpa(m)(q, k, v, attn_mask=mask.detach()),
                   (arr(2, 2, 4, 8), arr(2, 2, 5, 8), arr(2, 2, 5, 8), arr(4, 5))),
    "float_mask_grad": (lambda m, q, k, v, mask: sdpa(m)(q, k, v, attn_mask=mask),
                        (arr(2, 2, 4, 8), arr(2, 2, 5, 8), arr(2, 2, 5, 8), arr(2, 1, 4, 5))),
    "gqa": (lambda m, q, k, v: sdpa(m)(q, k, v, enable_gqa=True),
            (arr(2, 4, 3, 8), arr(2, 2, 5, 8), arr(2, 2, 5, 8))),
    "value_dim": (lambda m, q, k, v: sdpa(m)(q, k, v),
                  (arr(2, 3, 4, 8), arr(2, 3, 5, 8), arr(2, 3, 5, 6))),
    "broadcast_batch": (lambda m, q, k, v: sdpa(m)(q, k, v),
                        (arr(2, 3, 4, 8), arr(1, 3, 5, 8), arr(1, 3, 5, 8))),
    "3d": (lambda m, q, k, v: sdpa(m)(q, k, v, is_causal=True),
           (arr(3, 4, 8), arr(3, 4, 8), arr(3, 4, 6))),
    "3d_masked": (lambda m, q, k, v, mask: sdpa(m)(q, k, v, attn_mask=mask),
                  (arr(3, 4, 8), arr(3, 5, 8), arr(3, 5, 6), MASKED_ROW)),
    "2d": (lambda m, q, k, v: sdpa(m)(q, k, v), (arr(4, 8), arr(5, 8), arr(5, 8))),
    "5d": (lambda m, q: sdpa(m)(q, q, q), (arr(2, 2, 2, 3, 4),)),
    "float32": (lambda m, q, k, v: sdpa(m)(q, k, v, is_causal=True),
                (arr(2, 3, 4, 8, dtype="float32"), arr(2, 3, 4, 8, dtype="float32"),
                 arr(2, 3, 4, 8, dtype="float32"))),
    "float16": (lambda m, q: sdpa(m)(q, q, q), (arr(1, 2, 4, 8, dtype="float16"),)),
}


@pytest.mark.parametrize("name", list(SDPA_ROWS))
def test_sdpa_matches_torch(name):
    fn, inputs = SDPA_ROWS[name]
    tol = dict(rtol=2e-3, atol=2e-3) if name == "float16" else {}
    check(fn, *inputs, **tol)


@pytest.mark.parametrize("name", ["self", "cross", "causal", "bool_mask",
                                  "float_mask_grad", "gqa", "value_dim", "3d_masked", "2d"])
def test_sdpa_gradcheck(name):
    fn, inputs = SDPA_ROWS[name]
    gradcheck_op(fn, *inputs, gradgrad=name in ("cross", "bool_mask", "gqa"))


@pytest.mark.parametrize("shapes", [((2, 3, 4, 8),) * 3, ((3, 4, 8), (3, 4, 8), (3, 4, 6)),
                                    ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8))])
def test_sdpa_node_names(shapes):
    names = []
    for m in FRAMEWORKS:
        q, k, v = (m.tensor(arr(*s), requires_grad=True) for s in shapes)
        names.append(type(sdpa(m)(q, k, v).grad_fn).__name__)
    assert names[0] == names[1]


def test_sdpa_dropout_scales_kept_weights():
    q = disttorch.tensor(arr(1, 1, 64, 4))
    v = disttorch.ones(1, 1, 64, 4, dtype=disttorch.float64)
    out = sdpa(disttorch)(q, q, v, dropout_p=0.5)
    # each output row is sum(kept probabilities) / (1 - p): positive, with mean close to 1
    rows = out[0, 0, :, 0].numpy()
    assert out.shape == (1, 1, 64, 4) and np.all(rows >= 0)
    assert 0.6 < rows.mean() < 1.4
    assert np.allclose(out[..., 0].numpy(), out[..., 3].numpy())


SDPA_ERRORS = [
    lambda m, x: sdpa(m)(x, x.double(), x),
    lambda m, x: sdpa(m)(x, x, x, attn_mask=m.ones(4, 4, dtype=m.long)),
    lambda m, x: sdpa(m)(x, x, x, attn_mask=m.ones(4, 4).double()),
    lambda m, x: sdpa(m)(x[..., :1, :, :], x[..., :5], x, attn_mask=m.ones(4, 4) > 0,
                         is_causal=True),
    lambda m, x: sdpa(m)(x[0, 0, 0], x[0, 0], x[0, 0]),
    lambda m, x: sdpa(m)(x, x[:, :2], x[:, :2], enable_gqa=True),
    lambda m, x: sdpa(m)(x[0], x[0], x[0], attn_mask=m.ones(3, 4)),
]


@pytest.mark.parametrize("fn", SDPA_ERRORS)
def test_sdpa_errors(fn):
    check_error(fn, arr(2, 3, 4, 8, dtype="float32"), match="same")


# ---------------------------------------------------------------- modules


def load_from_torch(torch_module, module):
    module.load_state_dict({k: disttorch.tensor(v.detach().numpy().copy())
                            for k, v in torch_module.state_dict().items()})


def pair(make):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = {torch: make(torch), disttorch: make(disttorch)}
    assert list(modules[torch].state_dict()) == list(modules[disttorch].state_dict())
    load_from_torch(modules[torch], modules[disttorch])
    return modules


def compare(modules, arrays, call, rtol=1e-5, atol=1e-6, grads=True):
    """call(m, module, *tensors) in both; outputs, then gradients of inputs and parameters."""
    results = {}
    for m, module in modules.items():
        tensors = [m.tensor(a, requires_grad=grads and a.dtype.kind == "f") if isinstance(
            a, np.ndarray) else a for a in arrays]
        out = call(m, module, *tensors)
        results[m] = (out, tensors)
    assert_same(results[disttorch][0], results[torch][0], rtol, atol)
    if not grads:
        return
    outs = {m: [o for o in (r[0] if isinstance(r[0], tuple) else (r[0],))
                if o is not None and o.requires_grad] for m, r in results.items()}
    projections = [RNG.standard_normal(tuple(o.shape)) for o in outs[torch]]
    for m, module in modules.items():
        loss = sum((o * m.tensor(p, dtype=o.dtype)).sum() for o, p in zip(outs[m], projections))
        leaves = [t for t in results[m][1] if isinstance(t, m.Tensor) and t.requires_grad]
        leaves += list(module.parameters())
        results[m] = m.autograd.grad(loss, leaves, allow_unused=True)
    for i, (g, e) in enumerate(zip(results[disttorch], results[torch])):
        if e is None:
            assert g is None or not np.any(g.numpy()), f"grad[{i}]"
        else:
            assert_same(g, e, rtol * 10, atol * 10, what=f"grad[{i}]")


def mha_inputs(kdim=8, vdim=8, batch_first=False, tgt=4, src=5, bsz=3):
    def layout(length, dim):
        return arr(bsz, length, dim) if batch_first else arr(length, bsz, dim)
    return layout(tgt, 8), layout(src, kdim), layout(src, vdim)


PADDING = np.zeros((3, 5), bool)
PADDING[0, 3:] = True
PADDING[2, 4] = True

MHA_ROWS = {
    "default": (dict(), {}),
    "no_weights": (dict(), dict(need_weights=False)),
    "per_head_weights": (dict(), dict(average_attn_weights=False)),
    "padding": (dict(), dict(key_padding_mask=PADDING)),
    "padding_float": (dict(), dict(key_padding_mask=np.where(PADDING, -1e9, 0.0))),
    "padding_no_weights": (dict(batch_first=True), dict(key_padding_mask=PADDING,
                                                        need_weights=False)),
    "attn_mask_2d": (dict(), dict(attn_mask=bool_mask(4, 5))),
    "attn_mask_3d_float": (dict(), dict(attn_mask=arr(6, 4, 5), need_weights=False)),
    "both_masks": (dict(), dict(attn_mask=arr(4, 5), key_padding_mask=np.where(
        PADDING, -math.inf, 0.0))),
    "batch_first": (dict(batch_first=True), {}),
    "kdim_vdim": (dict(kdim=5, vdim=3), {}),
    "kdim_vdim_no_weights": (dict(kdim=5, vdim=3, batch_first=True), dict(need_weights=False)),
    "bias_kv_zero_attn": (dict(add_bias_kv=True, add_zero_attn=True), dict(
        key_padding_mask=PADDING, attn_mask=bool_mask(4, 5))),
    "no_bias": (dict(bias=False), dict(need_weights=False)),
    "dropout_eval": (dict(dropout=0.5), "eval"),
}


@pytest.mark.parametrize("name", list(MHA_ROWS))
def test_mha_matches_torch(name):
    ctor, call_kwargs = MHA_ROWS[name]
    modules = pair(lambda m: m.nn.MultiheadAttention(8, 2, **ctor).double())
    if call_kwargs == "eval":
        for module in modules.values():
            module.eval()
        call_kwargs = {}
    q, k, v = mha_inputs(ctor.get("kdim", 8), ctor.get("vdim", 8), ctor.get("batch_first"))
    masks = {key: value for key, value in call_kwargs.items() if isinstance(value, np.ndarray)}
    flags = {key: value for key, value in call_kwargs.items() if key not in masks}
    names = list(masks)

    def call(m, module, q, k, v, *mask_tensors):
        mask_tensors = [t.detach() for t in mask_tensors]
        return module(q, k, v, **dict(zip(names, mask_tensors)), **flags)
    compare(modules, [q, k, v, *masks.values()], call)


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_self_attention_identity_paths(batch_first):
    """query is key is value (packed projection) and key is value (split projection)."""
    modules = pair(lambda m: m.nn.MultiheadAttention(8, 4, batch_first=batch_first))
    x, y = arr(3, 4, 8, dtype="float32"), arr(3, 6, 8, dtype="float32")
    if not batch_first:
        y = arr(6, 4, 8, dtype="float32")
    compare(modules, [x], lambda m, module, x: module(x, x, x), atol=1e-5)
    compare(modules, [x, y], lambda m, module, x, y: module(x, y, y), atol=1e-5)


def test_mha_unbatched_and_causal():
    modules = pair(lambda m: m.nn.MultiheadAttention(8, 2).double())
    x = arr(4, 8)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy().astype(np.float64)
    compare(modules, [x], lambda m, module, x: module(x, x, x))
    compare(modules, [x], lambda m, module, x: module(
        x, x, x, attn_mask=m.tensor(causal), is_causal=True, need_weights=False))
    compare(modules, [arr(4, 2, 8)], lambda m, module, x: module(
        x, x, x, attn_mask=m.tensor(causal), is_causal=True, need_weights=False))


def test_mha_initialisation():
    module = disttorch.nn.MultiheadAttention(16, 4, add_bias_kv=True)
    bound = math.sqrt(6 / (16 + 48))
    assert float(module.in_proj_weight.abs().max()) <= bound
    assert float(module.in_proj_weight.std()) > bound / 4
    assert not module.in_proj_bias.detach().numpy().any()
    assert not module.out_proj.bias.detach().numpy().any()
    assert module.bias_k.shape == (1, 1, 16) and module.bias_v.requires_grad
    assert type(module.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(module.out_proj, disttorch.nn.Linear)


MHA_ERRORS = [
    lambda m, x: m.nn.MultiheadAttention(0, 2),
    lambda m, x: m.nn.MultiheadAttention(8, 3),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, attn_mask=m.zeros(4, 5)),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, attn_mask=m.zeros(5, 4, 4)),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, attn_mask=m.zeros(4, 4).long()),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, key_padding_mask=m.zeros(3, 5) > 0),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, key_padding_mask=m.zeros(2, 4) > 0),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x[:, :2], x),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, is_causal=True),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x[0, 0], x[0, 0], x[0, 0]),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x[0], x, x),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x[0], x[0]),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, key_padding_mask=m.zeros(3, 4, 1)),
    lambda m, x: m.nn.MultiheadAttention(8, 2)(x, x, x, attn_mask=m.zeros(1, 1, 4, 4)),
    lambda m, x: m.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
    lambda m, x: m.nn.Transformer(8, 2, 1, 1, 16)(x, x[:, :2]),
    lambda m, x: m.nn.Transformer(8, 2, 1, 1, 16)(x, x[..., :6]),
]


@pytest.mark.parametrize("fn", MHA_ERRORS)
def test_mha_errors(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_error(fn, arr(4, 3, 8, dtype="float32"), match="same")


def test_mismatched_mask_types_warn():
    for m in FRAMEWORKS:
        module = m.nn.MultiheadAttention(8, 2)
        x = m.randn(4, 3, 8)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and "
                                             "attn_mask is deprecated"):
            module(x, x, x, key_padding_mask=m.zeros(3, 4) > 0, attn_mask=m.zeros(4, 4))


# ---------------------------------------------------------------- transformer


def encoder_layer(m, **kwargs):
    options = dict(dim_feedforward=16, dropout=0.0)
    options.update(kwargs)
    return m.nn.TransformerEncoderLayer(8, 2, **options)


LAYER_ROWS = {
    "relu": dict(),
    "gelu_batch_first": dict(activation="gelu", batch_first=True),
    "norm_first": dict(norm_first=True, layer_norm_eps=1e-3),
    "module_activation": "module",
    "callable_activation": "callable",
    "no_bias": dict(bias=False),
}


@pytest.mark.parametrize("name", list(LAYER_ROWS))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer_matches_torch(name, mode):
    options = LAYER_ROWS[name]
    if options == "module":
        def make(m):
            return encoder_layer(m, activation=m.nn.GELU())
    elif options == "callable":
        def make(m):
            return encoder_layer(m, activation=lambda x: m.tanh(x) * 2)
    else:
        def make(m):
            return encoder_layer(m, **options)
    modules = pair(make)
    if mode == "eval":
        for module in modules.values():
            module.eval()
    batch_first = isinstance(options, dict) and options.get("batch_first")
    x = arr(3, 5, 8, dtype="float32") if batch_first else arr(5, 3, 8, dtype="float32")
    padding = PADDING if batch_first else None

    def call(m, module, x):
        mask = None if padding is None else m.tensor(padding)
        return module(x, src_key_padding_mask=mask)
    compare(modules, [x], call, rtol=1e-4, atol=1e-5)
    assert repr(modules[disttorch]) == repr(modules[torch])


@pytest.mark.filterwarnings("ignore:Support for mismatched src_key_padding_mask")
def test_encoder_stack_keys_masks_and_copies():
    def make(m):
        layer = encoder_layer(m, batch_first=True)
        return m.nn.TransformerEncoder(layer, 2, norm=m.nn.LayerNorm(8))
    modules = pair(make)
    encoder = modules[disttorch]
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight
    assert "layers.1.self_attn.in_proj_weight" in encoder.state_dict()
    assert repr(encoder) == repr(modules[torch])
    x = arr(3, 5, 8, dtype="float32")
    causal = torch.nn.Transformer.generate_square_subsequent_mask(5).numpy()
    compare(modules, [x], lambda m, module, x: module(x, src_key_padding_mask=m.tensor(
        PADDING)), rtol=1e-4, atol=1e-5)
    compare(modules, [x], lambda m, module, x: module(x, mask=m.tensor(causal)),
            rtol=1e-4, atol=1e-5)
    compare(modules, [x], lambda m, module, x: module(x, mask=m.tensor(causal), is_causal=True,
                                                      src_key_padding_mask=m.tensor(PADDING)),
            rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_eval_without_grad_zeroes_padding():
    """torch runs this case on nested tensors: padded positions come back as zeros."""
    def make(m):
        return m.nn.TransformerEncoder(encoder_layer(m, batch_first=True), 2)
    modules = pair(make)
    x = arr(3, 5, 8, dtype="float32")
    results = []
    for m, module in modules.items():
        module.eval()
        with m.no_grad():
            results.append(module(m.tensor(x), src_key_padding_mask=m.tensor(PADDING)))
    assert_same(results[1], results[0], rtol=1e-4, atol=1e-5)
    assert not results[1][0, 3:].numpy().any()


def test_encoder_nested_tensor_warning():
    messages = []
    for m in FRAMEWORKS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.nn.TransformerEncoder(encoder_layer(m), 1)
        messages.append([str(w.message) for w in caught if "nested" in str(w.message)])
    assert messages[0] == messages[1] and messages[0]


@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_and_transformer_match_torch(batch_first):
    def make(m):
        return m.nn.Transformer(8, 2, 1, 2, 16, dropout=0.0, batch_first=batch_first)
    modules = pair(make)
    src = arr(3, 5, 8, dtype="float32") if batch_first else arr(5, 3, 8, dtype="float32")
    tgt = arr(3, 4, 8, dtype="float32") if batch_first else arr(4, 3, 8, dtype="float32")
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4).numpy()

    def call(m, module, src, tgt):
        return module(src, tgt, tgt_mask=m.tensor(causal),
                      memory_key_padding_mask=m.tensor(PADDING))
    compare(modules, [src, tgt], call, rtol=1e-4, atol=1e-5)
    assert repr(modules[disttorch]) == repr(modules[torch])


def test_decoder_layer_norm_first():
    def make(m):
        return m.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True,
                                            activation="gelu")
    modules = pair(make)
    compare(modules, [arr(4, 2, 8), arr(5, 2, 8)],
            lambda m, module, tgt, mem: module(tgt.float(), mem.float(), tgt_is_causal=False),
            rtol=1e-4, atol=1e-5)


def test_generate_square_subsequent_mask():
    for size in (1, 4):
        assert_same(disttorch.nn.Transformer.generate_square_subsequent_mask(size),
                    torch.nn.Transformer.generate_square_subsequent_mask(size))
    assert_same(disttorch.nn.Transformer.generate_square_subsequent_mask(
        3, dtype=disttorch.float64), torch.nn.Transformer.generate_square_subsequent_mask(
        3, dtype=torch.float64))
