"""Step 8: watch the backward pass of ``y = sum(tanh(x * w))``, node by node.

Run it (``python docs/learn/step8_trace.py``) and read ``step8_trace.md`` beside it, which
takes the printed lines one at a time and checks each against the chain rule done by hand.
``tr.graph.trace(values=True)`` prints every forward op and every backward node with the
numbers that flow through it; ``tr.graph.show`` prints the graph that the backward walked.
"""

import numpy as np

import tinygrad_rnn as tr

x = tr.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = tr.tensor([0.5, -1.0, 0.25], requires_grad=True)

lines = []  # the trace, recorded (the test of this script reads it) and printed below
with tr.graph.trace(file=lines, values=True):
    p = x * w  # p_i = x_i w_i
    h = p.tanh()  # h_i = tanh(p_i)
    y = h.sum()  # y = h_0 + h_1 + h_2
    y.backward()  # dy/dx and dy/dw into x.grad and w.grad

print("The trace:")
print("\n".join(lines))
print()
print("The graph (after backward: its structure is still there):")
graph = tr.graph.show(y, names={"x": x, "w": w, "p": p, "h": h, "y": y}, file=[])
print(graph)
print()

# The same numbers by hand, with NumPy: the chain rule, one factor per node.
xs, ws = x.numpy().astype(np.float64), w.numpy().astype(np.float64)
local_tanh = 1 - np.tanh(xs * ws) ** 2  # d tanh(p)/dp = 1 - tanh(p)^2, times dy/dh = 1
by_hand = {"dy/dp": local_tanh, "dy/dx": local_tanh * ws, "dy/dw": local_tanh * xs}
print("By hand:")
for name, value in by_hand.items():
    print(f"  {name} = [{', '.join(f'{v:.4g}' for v in value)}]")
print(f"  x.grad = [{', '.join(f'{v:.4g}' for v in x.grad.numpy())}]")
print(f"  w.grad = [{', '.join(f'{v:.4g}' for v in w.grad.numpy())}]")
