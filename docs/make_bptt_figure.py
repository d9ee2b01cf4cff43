"""Draw docs/images/bptt_unrolled.png: a tanh RNN unrolled over three steps, with the forward
computation in one colour and the gradient paths of backpropagation through time in another.

    pip install matplotlib   # or: pip install "tinygrad_rnn[examples]"
    python docs/make_bptt_figure.py [PATH]   # PATH defaults to docs/images/bptt_unrolled.png

Column vectors here (as most textbooks write it): h_t = tanh(W_ih x_t + W_hh h_{t-1} + b), and
the gradient that reaches h_{t-1} through step t is W_hhᵀ diag(1 - h_t²) δh_t. docs/bptt.md
writes rows (x_t W_ihᵀ), where the same product reads (δh_t ⊙ (1 - h_t²)) W_hh.
"""

from __future__ import annotations

import sys
from pathlib import Path

FORWARD, BACKWARD, SHARED = "#1f5fa8", "#c0392b", "#555555"  # blue forward, red gradients, gray weight sums
STEPS = 3
COLUMN = 4.2  # horizontal distance between steps
ROWS = {"x": 0.0, "h": 2.6, "L": 5.2, "W": -2.3}  # heights of the inputs, states, losses and the weights box


def box(axis, x: float, y: float, text: str, color: str, width: float = 1.1, height: float = 0.75) -> None:
    """A rounded box centred on (x, y) with ``text`` (matplotlib mathtext) inside."""
    from matplotlib.patches import FancyBboxPatch

    axis.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.06",
                                  facecolor="white", edgecolor=color, linewidth=1.8, zorder=3))
    axis.text(x, y, text, ha="center", va="center", fontsize=13, zorder=4)


def arrow(axis, start: tuple, end: tuple, color: str, label: str = "", offset: tuple = (0, 0), dashed: bool = False,
          fontsize: float = 10.5, ha: str = "center") -> None:
    """An arrow from ``start`` to ``end``, labelled at its middle shifted by ``offset``."""
    axis.annotate("", xy=end, xytext=start, zorder=2,
                  arrowprops=dict(arrowstyle="-|>", color=color, lw=1.8, mutation_scale=16,
                                  linestyle=(0, (4, 2)) if dashed else "-", shrinkA=0, shrinkB=0))
    if label:
        middle = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        axis.text(*middle, label, color=color, fontsize=fontsize, ha=ha, va="center", zorder=4,
                  bbox=dict(facecolor="white", edgecolor="none", pad=0.5, alpha=0.9))


def draw(pyplot):
    """The figure: boxes for h_0, x_t, h_t, L_t and the shared weights; arrows for both directions."""
    figure, axis = pyplot.subplots(figsize=(13.5, 8.2))
    half_w, half_h = 0.55 + 0.06, 0.375 + 0.06  # a box's half sizes, its padding included
    box(axis, 0, ROWS["h"], "$h_0$", FORWARD)
    for t in range(1, STEPS + 1):
        cx = t * COLUMN
        box(axis, cx, ROWS["x"], f"$x_{t}$", FORWARD)
        box(axis, cx, ROWS["h"], f"$h_{t}$", FORWARD)
        box(axis, cx, ROWS["L"], f"$L_{t}$", BACKWARD)
        # Forward: input and previous state into the state, the state into its loss.
        arrow(axis, (cx - 0.25, ROWS["x"] + half_h), (cx - 0.25, ROWS["h"] - half_h), FORWARD, "$W_{ih}$",
              offset=(-0.35, 0))
        arrow(axis, (cx - COLUMN + half_w, ROWS["h"] + 0.17), (cx - half_w, ROWS["h"] + 0.17), FORWARD,
              "$W_{hh}$", offset=(0, 0.32))
        arrow(axis, (cx - 0.25, ROWS["h"] + half_h), (cx - 0.25, ROWS["L"] - half_h), FORWARD, "$y_t = h_t$"
              .replace("t", str(t)), offset=(-0.6, 0))
        # Backward: each loss into its own state, and each state into the one before, through step t.
        arrow(axis, (cx + 0.25, ROWS["L"] - half_h), (cx + 0.25, ROWS["h"] + half_h), BACKWARD,
              rf"$\partial L_{t} / \partial h_{t}$", offset=(0.75, 0), dashed=True)
        arrow(axis, (cx - half_w, ROWS["h"] - 0.17), (cx - COLUMN + half_w, ROWS["h"] - 0.17), BACKWARD,
              rf"$\times\, W_{{hh}}^{{\top}} \mathrm{{diag}}(1 - h_{t}^2)$", offset=(0, -0.38), dashed=True)
        # Each step's share of the shared weights' gradient, summed over time below.
        arrow(axis, (cx + 0.45, ROWS["h"] - half_h), (cx + 0.9, ROWS["W"] + 0.5), SHARED,
              rf"$\delta a_{t}$", offset=(0.42, 0.25), dashed=True, fontsize=10)
        axis.text(cx + 0.75, ROWS["h"] + 0.72, rf"$\delta h_{t}$", color=BACKWARD, fontsize=12, ha="left")

    left, right = -0.8, STEPS * COLUMN + 1.6
    from matplotlib.patches import FancyBboxPatch

    axis.add_patch(FancyBboxPatch((left + 0.3, ROWS["W"] - 0.55), right - left - 0.6, 1.05, boxstyle="round,pad=0.06",
                                  facecolor="#f4f4f4", edgecolor=SHARED, linewidth=1.5, zorder=1))
    axis.text((left + right) / 2, ROWS["W"] - 0.02,
              r"shared by every step: $\delta W_{hh} = \sum_t \delta a_t\, h_{t-1}^{\top}$,   "
              r"$\delta W_{ih} = \sum_t \delta a_t\, x_t^{\top}$,   $\delta b = \sum_t \delta a_t$,"
              "\n" r"where $\delta a_t = \mathrm{diag}(1 - h_t^2)\, \delta h_t$ (gradient of the pre-activation)",
              ha="center", va="center", fontsize=11.5, color="#222222", zorder=2)
    axis.text((left + right) / 2, ROWS["L"] + 1.05,
              r"$L = L_1 + L_2 + L_3$:    $\delta h_t = \partial L_t / \partial h_t \;+\; "
              r"W_{hh}^{\top} \mathrm{diag}(1 - h_{t+1}^2)\, \delta h_{t+1}$,  from $t = T$ down to $t = 1$",
              ha="center", va="center", fontsize=12.5, color=BACKWARD)
    axis.text((left + right) / 2, ROWS["L"] + 1.6,
              r"forward: $h_t = \tanh(W_{ih} x_t + W_{hh} h_{t-1} + b)$", ha="center", va="center",
              fontsize=12.5, color=FORWARD)
    axis.plot([], [], color=FORWARD, lw=1.8, label="forward")
    axis.plot([], [], color=BACKWARD, lw=1.8, ls=(0, (4, 2)), label="gradient (backward)")
    axis.plot([], [], color=SHARED, lw=1.8, ls=(0, (4, 2)), label="a step's share of the weight gradients")
    axis.legend(loc="upper left", bbox_to_anchor=(0.0, 0.46), fontsize=10, frameon=False)  # the empty corner below h_0
    axis.set_xlim(left, right)
    axis.set_ylim(ROWS["W"] - 0.9, ROWS["L"] + 2.0)
    axis.set_aspect("equal")
    axis.axis("off")
    return figure


def main(argv: list[str] | None = None) -> None:
    """Save the figure to the path given (default docs/images/bptt_unrolled.png)."""
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else Path(__file__).resolve().parent / "images" / "bptt_unrolled.png"
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as pyplot

    figure = draw(pyplot)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    pyplot.close(figure)
    print(f"saved figure to {path}")


if __name__ == "__main__":
    main()
