"""Tensor's methods, by concern: one mixin class per module, and ``Tensor`` (``tensor.py``) is

    class Tensor(ConversionMethods, ArithmeticMethods, ShapeMethods, ReductionMethods,
                 ComposedMethods, InPlaceMethods)

plus the autograd part it keeps for itself: the data, the graph fields, ``backward``, hooks,
versions and the rules of in-place writes.

- ``base.py``: ``TensorBase``, the root of the mixins, and reading shape and dim arguments;
- ``conversion.py``: ``item``, ``numpy``, ``to``, ``type``, ``float()``, ``cuda()``, ``new_zeros``, ``one_hot``, ...;
- ``arithmetic.py``: operators (``& | ^ ~`` too), comparisons, ``logical_*``, ``where``, ``clip``, and the
  registered functions (``exp``, ``tanh``, ``square``, ...: made from ``ops.REGISTRY``, not written out);
- ``shape.py``: ``reshape``, ``permute``, ``expand``, ``flip``, ``repeat``, ``x[index]``, ``narrow``,
  ``index_select``, ``gather``, ``split``, ``unbind``, ``cat``, ``stack``, ...;
- ``reduction.py``: ``sum``, ``prod``, ``cumsum``, ``amax``, ``max``/``min``, ``argmax``, ``sort``, ``topk``,
  ``argsort``, and the one reader of ``dim``/``axis``;
- ``composed.py``: ops made of other ops (``mean``, ``var``, ``softmax``, ``norm``, ``masked_fill``,
  ``dropout``, ...): no backward code;
- ``inplace.py``: ``x[i] = v``, ``+=``, ``add_``, ``copy_``, ``exp_``, ``masked_fill_``, ... (each one call of
  ``Tensor._write``), and ``unsqueeze_``/``squeeze_``.

These modules import ``ops``, ``backend`` and ``autograd``, never ``tensor.py``, which builds on them
(``new_tensor`` alone reaches up, to ``creation.tensor``, and only when it is called, as ``Tensor()`` does).
"""

from .arithmetic import ArithmeticMethods, where
from .base import TensorBase
from .composed import ComposedMethods
from .conversion import ConversionMethods, one_hot
from .inplace import InPlaceMethods
from .reduction import ReductionMethods, ValuesIndices
from .shape import ShapeMethods, cat, stack

__all__ = [
    "ArithmeticMethods", "ComposedMethods", "ConversionMethods", "InPlaceMethods", "ReductionMethods",
    "ShapeMethods", "TensorBase", "ValuesIndices", "cat", "one_hot", "stack", "where",
]
