"""Sequence to sequence: an encoder-decoder learns to reverse (or sort) strings of digits.

The encoder (an embedding and a GRU or LSTM) reads a digit string of 3 to 8 digits;
strings of different lengths share a padded batch, and ``lengths=`` makes the encoder
stop at each string's own end, so its final state is the summary of the real digits
only. That one state vector is all the decoder gets: it starts from it, is fed a
START token, and emits one token per step until it says END.

Training uses teacher forcing: the decoder is fed the *true* previous token at every
step (START, y1, y2, ...) and learns to predict the next one (y1, y2, ..., END), so a
whole target is scored in one pass. At test time there is no truth to feed: decoding
is greedy, each step's most likely token becomes the next step's input, so an early
mistake can derail the rest. Accuracy is measured that way, on strings never trained on.

Sorting turns out easier than reversing for this architecture: a sorted answer only needs
how many of each digit were seen (ten counters, in any order), while a reversed one needs
every digit *and* its position. With no attention, the whole string must squeeze through
one state vector, so longer strings are learned later: the picture shows exact-match
accuracy for each length as training goes on.

    python examples/seq2seq.py [--task reverse|sort] [--steps 2500] [--cell gru|lstm]
                               [--quick] [--plot docs/images/seq2seq.png] [--device cuda]
"""

from __future__ import annotations

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, evaluate, example_arguments, optimize, progress, save_figure

START, END = 10, 11  # tokens past the ten digits; one vocabulary serves encoder, decoder and output
VOCAB = 12
IGNORE = -100  # target padding, skipped by cross_entropy


def make_strings(count: int, min_length: int, max_length: int, rng, exclude=frozenset()) -> list:
    """``count`` random digit strings (tuples of ints), lengths uniform in [min_length, max_length],
    none of them in ``exclude`` (so training never sees a held-out string)."""
    strings = []
    while len(strings) < count:
        string = tuple(rng.integers(0, 10, rng.integers(min_length, max_length + 1)).tolist())
        if string not in exclude:
            strings.append(string)
    return strings


def solve(string: tuple, task: str) -> tuple:
    """The answer the model must learn."""
    return tuple(reversed(string)) if task == "reverse" else tuple(sorted(string))


def to_batch(strings: list, task: str, device) -> tuple:
    """Padded tensors for a batch, batch first:

    - ``source`` (N, L): the digits, padded with 0 (the encoder never reads the padding: ``lengths``)
    - ``decoder_input`` (N, L+1): START, y1, ..., yn (teacher forcing feeds the truth)
    - ``target`` (N, L+1): y1, ..., yn, END, then IGNORE where the string is shorter
    """
    lengths = [len(s) for s in strings]
    longest = max(lengths)
    source = np.zeros((len(strings), longest), dtype=np.int64)
    decoder_input = np.full((len(strings), longest + 1), END, dtype=np.int64)  # END past the end: its
    target = np.full((len(strings), longest + 1), IGNORE, dtype=np.int64)  # predictions are ignored
    for i, string in enumerate(strings):
        answer = solve(string, task)
        source[i, : len(string)] = string
        decoder_input[i, : len(string) + 1] = (START, *answer)
        target[i, : len(string) + 1] = (*answer, END)
    return (tr.tensor(source, device=device), lengths,
            tr.tensor(decoder_input, device=device), tr.tensor(target, device=device))


class Seq2Seq(nn.Module):
    """An encoder RNN whose final state initialises a decoder RNN, and a linear head
    that turns each decoder state into scores for the next token."""

    def __init__(self, hidden: int, embedding: int, cell: str):
        super().__init__()
        recurrent = nn.GRU if cell == "gru" else nn.LSTM
        self.source_embedding = nn.Embedding(VOCAB, embedding)
        self.target_embedding = nn.Embedding(VOCAB, embedding)
        self.encoder = recurrent(embedding, hidden, batch_first=True)
        self.decoder = recurrent(embedding, hidden, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def encode(self, source: tr.Tensor, lengths: list):
        """The encoder's final state (h_n, or (h_n, c_n) for the LSTM), each string's own last step."""
        _, state = self.encoder(self.source_embedding(source), lengths=lengths)
        return state

    def decode(self, tokens: tr.Tensor, state) -> tuple:
        """Scores (N, T, VOCAB) for the token after each of ``tokens`` (N, T), and the new state."""
        outputs, state = self.decoder(self.target_embedding(tokens), state)
        return self.head(outputs), state

    def forward(self, source: tr.Tensor, lengths: list, decoder_input: tr.Tensor) -> tr.Tensor:
        """Teacher-forced scores for every target position, in one pass."""
        scores, _ = self.decode(decoder_input, self.encode(source, lengths))
        return scores

    def generate(self, source: tr.Tensor, lengths: list, steps: int) -> list:
        """Greedy decoding: feed back the most likely token, ``steps`` times; returns token lists."""
        state = self.encode(source, lengths)
        token = tr.full((source.shape[0], 1), START, dtype=tr.int64, device=source.device)
        emitted = []
        for _ in range(steps):
            scores, state = self.decode(token, state)
            token = scores.argmax(-1)  # (N, 1): the model's own guess is the next input
            emitted.append(token)
        return tr.cat(emitted, 1).tolist()


def cut_at_end(tokens: list) -> tuple:
    """The tokens before the first END (all of them if the model never said END)."""
    return tuple(tokens[: tokens.index(END)] if END in tokens else tokens)


def score(model: Seq2Seq, strings: list, task: str, device) -> dict:
    """Greedy predictions for ``strings`` and how good they are: exact-match accuracy (the whole
    answer, and nothing more), per-token accuracy (answer digits right in their position), and
    exact-match accuracy by string length."""
    source, lengths, _, _ = to_batch(strings, task, device)
    tokens = evaluate(model, lambda: model.generate(source, lengths, steps=max(lengths) + 1))
    predictions = [cut_at_end(t) for t in tokens]
    answers = [solve(s, task) for s in strings]
    exact = [p == a for p, a in zip(predictions, answers)]
    right_digits = sum(sum(x == y for x, y in zip(p, a)) for p, a in zip(predictions, answers))
    by_length = {}
    for string, ok in zip(strings, exact):
        by_length.setdefault(len(string), []).append(ok)
    return {
        "exact": float(np.mean(exact)),
        "token": right_digits / sum(len(a) for a in answers),
        "by_length": {n: float(np.mean(oks)) for n, oks in sorted(by_length.items())},
        "predictions": predictions,
    }


def show(string: tuple) -> str:
    return "".join(map(str, string)) or "(empty)"


def draw(history: dict, task: str, cell: str):
    """A figure maker for ``save_figure``: training loss, held-out accuracy, and
    exact-match accuracy for each string length, all against the training step."""

    def figure(pyplot):
        fig, (left, middle, right) = pyplot.subplots(1, 3, figsize=(15, 4))
        left.plot(history["step"], history["loss"], color="tab:gray", lw=0.6, alpha=0.5, label="per step")
        window = min(25, len(history["loss"]))
        smooth = np.convolve(history["loss"], np.ones(window) / window, mode="valid")
        centred = history["step"][window // 2 : window // 2 + len(smooth)]  # each mean at its window's middle
        left.plot(centred, smooth, color="black", label=f"mean of {window}")
        left.set(yscale="log", xlabel="training step", ylabel="cross-entropy (teacher forced)",
                 title="training loss")
        left.legend()
        middle.plot(history["eval_step"], history["token"], "o-", label="per-token")
        middle.plot(history["eval_step"], history["exact"], "s-", label="exact match")
        middle.axhline(0.1, color="gray", ls=":", label="chance per token")
        middle.set(ylim=(0, 1.02), xlabel="training step", ylabel="accuracy (greedy decoding)",
                   title="held-out strings")
        middle.legend(loc="lower right")
        colors = pyplot.cm.viridis(np.linspace(0, 0.9, len(history["by_length"])))
        for color, (length, accuracy) in zip(colors, sorted(history["by_length"].items())):
            right.plot(history["eval_step"], accuracy, "o-", color=color, ms=3, label=f"{length} digits")
        right.set(ylim=(0, 1.02), xlabel="training step", ylabel="exact-match accuracy",
                  title="longer strings are learned later")
        right.legend(fontsize="small", loc="lower right")
        fig.suptitle(f"a {cell.upper()} encoder-decoder learns to {task} digit strings of different lengths")
        fig.tight_layout()
        return fig

    return figure


def main() -> None:
    parser = example_arguments(__doc__.split("\n")[0], steps=2500, batch=64, hidden=128, embedding=32,
                               lr=0.003, min_length=3, max_length=8, held_out=500, eval_every=100)
    parser.add_argument("--task", choices=("reverse", "sort"), default="reverse")
    parser.add_argument("--cell", choices=("gru", "lstm"), default="gru")
    args = parser.parse_args()
    if args.quick:  # smaller defaults, enough to see learning, not to finish it; flags given still win
        parser.set_defaults(steps=300, held_out=200, eval_every=50)
        args = parser.parse_args()
    tr.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)  # the data's own generator

    held_out = make_strings(args.held_out, args.min_length, args.max_length, rng)
    excluded = frozenset(held_out)
    model = Seq2Seq(args.hidden, args.embedding, args.cell).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    # the learning rate decays to zero, which settles the last digits of accuracy
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.steps)
    history = {"step": [], "loss": [], "eval_step": [], "exact": [], "token": [], "by_length": {}}
    watch = Stopwatch()

    print(f"task: {args.task} strings of {args.min_length}-{args.max_length} digits, "
          f"{args.cell.upper()} encoder-decoder, hidden {args.hidden}, {args.steps} steps of {args.batch}")

    def check(step: int) -> dict:
        """Score the held-out strings, remember the result for the picture, print a line."""
        result = score(model, held_out, args.task, args.device)
        history["eval_step"].append(step)
        for key in ("exact", "token"):
            history[key].append(result[key])
        for length, accuracy in result["by_length"].items():
            history["by_length"].setdefault(length, []).append(accuracy)
        loss = f"loss {history['loss'][-1]:.4f}" if history["loss"] else "untrained  "
        print(f"step {step:5d}  {loss}  held-out per-token {result['token']:.3f}  "
              f"exact match {result['exact']:.3f}  ({watch.elapsed:.0f} s)")
        return result

    result = check(0)  # before training, for the start of the curves
    for step in progress(range(1, args.steps + 1), total=args.steps, desc="training", enabled=not args.no_progress):
        source, lengths, decoder_input, target = to_batch(
            make_strings(args.batch, args.min_length, args.max_length, rng, excluded), args.task, args.device)
        scores = model(source, lengths, decoder_input)
        loss = nn.functional.cross_entropy(scores.reshape(-1, VOCAB), target.reshape(-1), ignore_index=IGNORE)
        history["step"].append(step)
        history["loss"].append(optimize(loss, optimizer, max_norm=1.0))
        schedule.step()
        if step % args.eval_every == 0 or step == args.steps:
            result = check(step)

    print("\nexamples (input -> prediction, target):")
    for string, prediction in list(zip(held_out, result["predictions"]))[:8]:
        mark = "ok" if prediction == solve(string, args.task) else "WRONG"
        print(f"  {show(string):>8} -> {show(prediction):<9} {show(solve(string, args.task)):<8} {mark}")
    print("exact match by length: " + "  ".join(f"{n}: {a:.2f}" for n, a in result["by_length"].items()))
    save_figure(draw(history, args.task, args.cell), args.plot)
    print(f"per-token accuracy {result['token']:.3f} (chance 0.1)")
    print(f"exact-match accuracy {result['exact']:.3f} on {len(held_out)} held-out strings")


if __name__ == "__main__":
    main()
