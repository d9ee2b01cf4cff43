"""The fused road: one recurrent layer, in one direction, over a whole sequence, as a
single graph node whose backward is the hand-derived BPTT of ``bptt.py``.

The composed road (``nn/recurrent.py``) records about a dozen nodes per time step;
this records one per layer and direction, and its backward walks time in plain array
code. Same numbers, far less bookkeeping.
"""

from __future__ import annotations

from .. import bptt
from ..autograd import Function, constant, is_grad_enabled


class FusedRecurrence(Function):
    """Inputs ``x, h0, [c0,] w_ih, w_hh, [b_ih, b_hh]`` (c0 for the LSTM, biases if used);
    outputs ``(outputs, h_n)`` or, for the LSTM, ``(outputs, h_n, c_n)``.

    ``mode`` is "rnn_tanh", "rnn_relu", "lstm" or "gru"; ``reverse`` runs time backwards;
    ``mask`` (T, N) bool marks the steps of each sequence that are real (None: all).
    """

    def forward(self, *arrays, mode, reverse, mask, has_bias):
        xp = self.xp
        self.mode, self.has_bias = mode, has_bias
        if mode == "lstm":
            x, h0, c0, w_ih, w_hh, *biases = arrays
        else:
            x, h0, w_ih, w_hh, *biases = arrays
        b_ih, b_hh = biases if has_bias else (None, None)
        if mode == "lstm":
            out, h_n, c_n, self.cache = bptt.lstm_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse, mask)
            results = (out, h_n, c_n)
        elif mode == "gru":
            out, h_n, self.cache = bptt.gru_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, reverse, mask)
            results = (out, h_n)
        else:
            nonlinearity = "tanh" if mode == "rnn_tanh" else "relu"
            out, h_n, self.cache = bptt.rnn_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, mask)
            results = (out, h_n)
        self.result_shapes = [(r.shape, r.dtype) for r in results]  # for zeros where no gradient comes
        return results

    def backward(self, *grads):
        if is_grad_enabled():
            raise RuntimeError(
                "the fused recurrent road's backward is hand-derived array code and cannot be differentiated "
                "again (create_graph=True); build the layer with impl='composed' for higher-order gradients"
            )
        xp = self.xp
        # an output that received no gradient (unused, or dropped) contributes zeros
        d = [g.data if g is not None else xp.zeros(shape, dtype=dtype)
             for g, (shape, dtype) in zip(grads, self.result_shapes)]
        if self.mode == "lstm":
            dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = bptt.lstm_backward(xp, self.cache, d[0], d[1], d[2])
            result = [dx, dh0, dc0, dw_ih, dw_hh]
        else:
            backward = bptt.gru_backward if self.mode == "gru" else bptt.rnn_backward
            dx, dh0, dw_ih, dw_hh, db_ih, db_hh = backward(xp, self.cache, d[0], d[1])
            result = [dx, dh0, dw_ih, dw_hh]
        if self.has_bias:
            result += [db_ih, db_hh]
        return tuple(constant(g) if needed else None for g, needed in zip(result, self.needs_input_grad))
