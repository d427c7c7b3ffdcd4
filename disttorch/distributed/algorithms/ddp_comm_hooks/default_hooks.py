"""The built-in DDP comm hooks: plain all-reduce and fp16 / bf16 compression.

A hook is called as hook(state, bucket) with the process group (or None) as state and
returns a Future whose value is the bucket's flat buffer averaged over the ranks.
Compression halves the bytes on the wire: the bucket is divided by the world size, cast to
16 bits, all-reduced, and cast back into the bucket.
"""

from .... import _backend as B
from ...._tensor import Tensor
from ... import collectives
from ...process_group import resolve


def _world(process_group):
    pg = resolve(process_group, "comm hook")
    return pg.size()


def allreduce_hook(process_group, bucket):
    """Average the bucket's gradients with one all-reduce (what DDP does without a hook)."""
    buffer = bucket.buffer()
    buffer._data /= _world(process_group)
    work = collectives.all_reduce(buffer, group=process_group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def _compress_hook(process_group, bucket, wire_dtype):
    buffer = bucket.buffer()
    compressed = buffer._data / _world(process_group)
    wire = Tensor._wrap(compressed.astype(wire_dtype.np))
    work = collectives.all_reduce(wire, group=process_group, async_op=True)

    def decompress(fut):
        reduced = fut.value()[0]
        buffer._data[...] = reduced._data.astype(buffer._data.dtype)
        return buffer

    return work.get_future().then(decompress)


def fp16_compress_hook(process_group, bucket):
    """All-reduce the bucket in float16 (half the bytes), then cast back."""
    return _compress_hook(process_group, bucket, B.float16)


def bf16_compress_hook(process_group, bucket):
    """All-reduce the bucket in bfloat16 (half the bytes, float32's range), then cast back."""
    return _compress_hook(process_group, bucket, B.bfloat16)
