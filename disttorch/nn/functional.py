"""torch.nn.functional: the stateless functions behind every layer.

Re-exports the functional names of the nn op families in disttorch._ops (each lists them in
its FUNCTIONAL); layers hold parameters and call these.
"""

from .._ops import nn_activation, nn_conv, nn_loss, nn_norm, nn_pool, nn_rnn

_FAMILIES = (nn_activation, nn_conv, nn_loss, nn_norm, nn_pool, nn_rnn)
for _family in _FAMILIES:
    for _name in _family.FUNCTIONAL:
        globals()[_name] = getattr(_family, _name)
del _family
