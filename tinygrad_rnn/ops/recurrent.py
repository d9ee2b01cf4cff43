"""The fused road: one recurrent layer, in one direction, over a whole sequence, as a
single graph node whose backward is the hand-derived BPTT of ``bptt.py``.

The composed road (``nn/recurrent_cells.py``) records about a dozen nodes per time step;
this records one per layer and direction, and its backward walks time in plain array
code. Same numbers, far less bookkeeping.
"""

from __future__ import annotations

from ..autograd import Function, constant, is_grad_enabled


class FusedRecurrence(Function):
    """Inputs ``x, h0, [c0,] w_ih, w_hh, [b_ih, b_hh,] [w_hr]`` (c0 for the LSTM, biases if used, the
    projection w_hr for an LSTM with ``proj_size``: the kind's ``extra_weights``); outputs
    ``(outputs, h_n)`` or, for the LSTM, ``(outputs, h_n, c_n)``.

    ``kind`` is the cell's entry in ``bptt.CELL_KINDS`` (or its ``projected`` variant), whose forward
    and backward do the work; ``reverse`` runs time backwards; ``mask`` (T, N) bool marks the steps of
    each sequence that are real (None: all).
    """

    def forward(self, *arrays, kind, reverse, mask, has_bias):
        self.kind, self.has_bias = kind, has_bias
        split = len(arrays) - kind.extra_weights  # the extra weights come after the biases
        no_biases = () if has_bias else (None, None)  # b_ih, b_hh
        *results, self.cache = kind.forward(self.xp, *arrays[:split], *no_biases, *arrays[split:],
                                            reverse=reverse, mask=mask)
        self.result_shapes = [(r.shape, r.dtype) for r in results]  # for zeros where no gradient comes
        return tuple(results)

    def backward(self, *grads):
        if is_grad_enabled():
            raise RuntimeError(
                "the fused recurrent road's backward is hand-derived array code and cannot be differentiated "
                "again (create_graph=True); build the layer with impl='composed' for higher-order gradients"
            )
        xp = self.xp
        # an output that received no gradient (unused, or dropped) contributes zeros
        d = [g.array if g is not None else xp.zeros(shape, dtype=dtype)
             for g, (shape, dtype) in zip(grads, self.result_shapes)]
        # (dx, dh0, [dc0,] dW_ih, dW_hh, db_ih, db_hh, [dW_hr]): the order of the inputs
        result = self.kind.backward(xp, self.cache, *d, need_dx=self.needs_input_grad[0])
        if not self.has_bias:
            biases = len(result) - self.kind.extra_weights - 2  # where db_ih, db_hh are
            result = result[:biases] + result[biases + 2 :]
        return tuple(constant(g) if needed else None for g, needed in zip(result, self.needs_input_grad))
