"""torch.kl_div & co.: the top-level loss functions, which take their reduction as torch's
enum (0 none, 1 mean, 2 sum) where nn.functional's take a string and the legacy arguments.

They are exported as disttorch.<name> (by nn_activation, the family's re-exporter) and call
the nn.functional versions in nn_loss.
"""

__all__ = ["kl_div", "binary_cross_entropy_with_logits", "margin_ranking_loss",
           "hinge_embedding_loss", "cosine_embedding_loss", "poisson_nll_loss",
           "triplet_margin_loss"]
FUNCTIONAL = []

_REDUCTIONS = ("none", "mean", "sum")


def _name(reduction):
    return _REDUCTIONS[reduction]


def kl_div(input, target, reduction=1, *, log_target=False):
    from . import nn_loss

    return nn_loss.kl_div_unwarned(input, target, _name(reduction), log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=1):
    from . import nn_loss

    return nn_loss.binary_cross_entropy_with_logits(input, target, weight,
                                                    reduction=_name(reduction),
                                                    pos_weight=pos_weight)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    from . import nn_loss

    return nn_loss.margin_ranking_loss(input1, input2, target, margin,
                                       reduction=_name(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    from . import nn_loss

    return nn_loss.hinge_embedding_loss(input, target, margin, reduction=_name(reduction))


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    from . import nn_loss

    return nn_loss.cosine_embedding_loss(input1, input2, target, margin,
                                         reduction=_name(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    from . import nn_loss

    return nn_loss.poisson_nll_loss(input, target, log_input, full, eps=eps,
                                    reduction=_name(reduction))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        reduction=1):
    from . import nn_loss

    return nn_loss.triplet_margin_loss_unchecked(anchor, positive, negative, margin, p, eps,
                                                 swap, _name(reduction))
