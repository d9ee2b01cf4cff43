"""A character-level language model: an LSTM (or GRU) reads text one character at a
time, learns to predict the next one, and then writes text of its own.

Each character is an index into the text's alphabet; an ``nn.Embedding`` turns it into
a vector, the recurrent layer folds everything read so far into its state, and an
``nn.Linear`` turns the state into scores (logits) for the next character. The loss is
the cross-entropy of the true next character, in nats; divided by ln 2 it is *bits per
character* (bpc), the number of bits the model would need to compress the text. Two
baselines say what the number means: guessing uniformly over the alphabet costs
log2(alphabet size) bits, and knowing only how often each character occurs (the
unigram model) costs the entropy of those frequencies. Anything below the unigram
baseline is the model using context.

Training is truncated backpropagation through time: the training text is cut into
``--batch`` long streams read side by side, ``--bptt`` characters at a time. The
recurrent state is carried from one chunk to the next, so the model's memory spans
chunks, but it is detached (``state.detach()``), so gradients flow back only through
the current chunk. The last ``--heldout`` fraction of the text is never trained on: its
bpc says whether the model learned the language or memorised the text.

The default corpus is the source of Python's standard library (no download); any
UTF-8 text file works with ``--text``.

    python examples/char_lm.py [--cell lstm|gru] [--text PATH] [--steps 2000] [--temperature 0.8]
                               [--prime "def "] [--checkpoint PATH [--resume]] [--plot curve.png]
                               [--device cuda] [--seed 0] [--quick] [--no-progress]
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

import tinygrad_rnn as tr
from tinygrad_rnn import nn, optim
from tinygrad_rnn.training import Stopwatch, evaluate, log, optimize, progress, sample_logits, save_figure

DEFAULTS = dict(
    text=None, chars=400_000, heldout=0.1, embed=32, hidden=128, layers=1,
    steps=2000, batch=32, bptt=64, lr=3e-3, clip=1.0, eval_every=100, save_every=500,
    sample_chars=400, temperature=0.8, prime=None, checkpoint=None,
)
# --quick: a small model on a small corpus, for the tests; flags given still win
QUICK = dict(chars=60_000, embed=16, hidden=64, steps=150, batch=16, bptt=32, lr=1e-2, eval_every=50,
             save_every=75, sample_chars=120)


class CharLM(nn.Module):
    """Character indices (L, N) in, next-character logits (L, N, vocab) out, with the
    recurrent state passed in and handed back so the caller can carry it on."""

    def __init__(self, vocab: int, embed: int, hidden: int, layers: int, cell: str):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](embed, hidden, num_layers=layers)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x: tr.Tensor, state=None):
        outputs, state = self.rnn(self.embed(x), state)  # (L, N, hidden): the state after each character
        return self.head(outputs), state


def detach(state):
    """The state with its history cut off (LSTM: a tuple (h, c); GRU: h): the next chunk
    starts from these values, but backpropagation stops here."""
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def side_by_side(data: tr.Tensor, streams: int) -> tr.Tensor:
    """Cut a 1-D sequence into ``streams`` consecutive pieces, one per column: (length, streams).
    Row t holds each stream's t-th character, so a slice of rows is a batch of chunks."""
    length = data.shape[0] // streams
    return data[: length * streams].reshape(streams, length).T


def mean_loss(model: CharLM, columns: tr.Tensor, bptt: int) -> float:
    """Cross-entropy in nats per character over all of ``columns`` (from ``side_by_side``),
    read chunk by chunk with the state carried, as in training, but with no graph."""

    def run() -> float:
        total, count, state = 0.0, 0, None
        for start in range(0, columns.shape[0] - 1, bptt):
            targets = columns[start + 1 : start + bptt + 1]
            logits, state = model(columns[start : start + targets.shape[0]], state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                               reduction="sum")
            total, count = total + loss.item(), count + targets.numel()
        return total / count

    return evaluate(model, run)


def sample(model: CharLM, vocab: tr.data.CharVocabulary, prime: str, length: int, temperature: float,
           generator, device: str) -> str:
    """``prime`` followed by ``length`` characters the model writes, each drawn from
    softmax(logits / temperature) and fed back in as the next input."""

    def run() -> str:
        logits, state = model(vocab.encode(prime, device).unsqueeze(1), None)  # read the prime: (P, 1) in
        written = []
        for _ in range(length):
            index = int(sample_logits(logits[-1, 0], temperature, generator))
            written.append(index)
            logits, state = model(tr.tensor([[index]], device=device), state)
        return prime + vocab.decode(written)

    return evaluate(model, run)


def unigram_bits(text: str) -> float:
    """The entropy of the character frequencies of ``text``, in bits: the bpc of the best
    model that ignores context."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def parse_arguments():
    parser = tr.training.example_arguments(__doc__.split("\n")[0], **DEFAULTS)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm", help="the recurrent layer")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    args = parser.parse_args()
    if args.quick:  # smaller defaults; flags given on the command line still win
        parser.set_defaults(**QUICK)
        args = parser.parse_args()
    if args.resume and not args.checkpoint:
        parser.error("--resume needs --checkpoint PATH")
    if not 0 < args.heldout < 1:
        parser.error(f"--heldout must be a fraction in (0, 1), got {args.heldout}")
    return parser, args


def resume(parser, path: str, model: CharLM, optimizer, vocab: tr.data.CharVocabulary, config: dict):
    """Load a checkpoint's weights and optimizer state (its Adam moments) into ``model`` and
    ``optimizer`` and return its step and learning curve, after checking that it was made
    for the same alphabet and the same model; otherwise stop with a message saying what differs."""
    if not Path(path).exists():
        parser.error(f"--resume: there is no checkpoint at {path}")
    saved = tr.load(path)
    if saved["vocab"] != vocab.chars:  # index i must mean the same character as when it was trained
        parser.error(f"--resume: {path} was trained on a text with another alphabet "
                     f"({len(saved['vocab'])} characters, this text has {len(vocab)}); resume on the same text")
    if saved["config"] != config:
        given = " ".join(f"--{k} {v}" for k, v in saved["config"].items())
        parser.error(f"--resume: {path} holds a different model; resume with {given}")
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optim"])
    # The step says where in the text to go on; the recurrent state is not saved, so the
    # streams go on from an empty memory, which costs a few characters of context once.
    print(f"resumed from {path} at step {saved['step']}")
    return saved["step"], saved["history"]


def main() -> None:
    parser, args = parse_arguments()
    tr.manual_seed(args.seed)
    generator = np.random.default_rng(args.seed)  # for sampling text

    if args.text is None:
        text = tr.data.standard_library_text(args.chars)  # fixed seed: the corpus is data, not chance
        source = f"{len(text):,} characters of Python's standard library"
    else:
        text = Path(args.text).read_text(encoding="utf-8", errors="replace")
        source = f"{len(text):,} characters of {args.text}"
    vocab = tr.data.CharVocabulary(text)  # over all the text, so held-out characters have an index too
    split = int(len(text) * (1 - args.heldout))
    train_text, heldout_text = text[:split], text[split:]
    if len(train_text) < args.batch * (args.bptt + 1) or len(heldout_text) < args.bptt + 1:
        parser.error(f"the text has {len(text):,} characters; with --batch {args.batch} and --bptt {args.bptt} it "
                     f"needs at least {int(args.batch * (args.bptt + 1) / (1 - args.heldout)) + 1:,} "
                     "(or use smaller --batch and --bptt)")
    prime = args.prime if args.prime is not None else ("def " if args.text is None else text[:10])
    missing = sorted(set(prime) - set(vocab.chars))
    if not prime or missing:
        parser.error(f"--prime must be non-empty text made of the corpus's characters; {missing} are not in it")

    train = side_by_side(vocab.encode(train_text, args.device), args.batch)  # (length, batch)
    # Held-out text is read as up to 16 streams too: far fewer steps than one long stream, and
    # each stream is long enough that starting it with an empty memory costs little.
    streams = max(1, min(16, len(heldout_text) // (8 * args.bptt)))
    heldout = side_by_side(vocab.encode(heldout_text, args.device), streams)
    uniform, unigram = math.log2(len(vocab)), unigram_bits(train_text)
    print(f"corpus: {source}, {len(vocab)} distinct; training on {len(train_text):,}, holding out "
          f"{len(heldout_text):,}")
    print(f"baselines: uniform {uniform:.2f} bits per character, unigram (character frequencies) {unigram:.2f}")

    config = dict(cell=args.cell, embed=args.embed, hidden=args.hidden, layers=args.layers)
    model = CharLM(len(vocab), args.embed, args.hidden, args.layers, args.cell).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    step, history = 0, {"step": [], "train_bpc": [], "heldout_bpc": []}
    if args.resume:
        step, history = resume(parser, args.checkpoint, model, optimizer, vocab, config)

    def save_checkpoint() -> None:
        tr.save({"model": model.state_dict(), "optim": optimizer.state_dict(), "step": step,
                 "vocab": vocab.chars, "config": config, "history": history}, args.checkpoint)

    chunks = (train.shape[0] - 1) // args.bptt  # per pass over the training text
    watch, state, running = Stopwatch(), None, []
    bar = progress(range(step + 1, args.steps + 1), total=args.steps - step, desc="training",
                   enabled=not args.no_progress)
    for step in bar:
        start = (step - 1) % chunks * args.bptt
        if start == 0:  # a new pass over the text: the streams start again with an empty memory
            state = None
        logits, state = model(train[start : start + args.bptt], state)
        state = detach(state)  # truncated BPTT: keep the memory, cut the gradient
        loss = nn.functional.cross_entropy(logits.reshape(-1, len(vocab)),
                                           train[start + 1 : start + args.bptt + 1].reshape(-1))
        running.append(optimize(loss, optimizer, max_norm=args.clip))

        if step % args.eval_every == 0 or step == args.steps:
            history["step"].append(step)
            history["train_bpc"].append(sum(running) / len(running) / math.log(2))
            history["heldout_bpc"].append(mean_loss(model, heldout, args.bptt) / math.log(2))
            running = []
            log(bar, f"step {step:5d}  train bpc {history['train_bpc'][-1]:.3f}  "
                     f"held-out bpc {history['heldout_bpc'][-1]:.3f}  ({watch.elapsed:.0f} s)")
        if step % args.save_every == 0 and step < args.steps:  # a checkpoint: save, and show how it writes now
            if args.checkpoint:
                save_checkpoint()
            line = sample(model, vocab, prime, 80, args.temperature, generator, args.device)
            log(bar, f"  sample: {line!r}")

    if args.checkpoint:
        save_checkpoint()
        print(f"saved checkpoint to {args.checkpoint} (step {step})")
    final = mean_loss(model, heldout, args.bptt) / math.log(2)
    save_figure(lambda pyplot: draw_curve(pyplot, history, uniform, unigram), args.plot)
    print(f"--- sample at temperature {args.temperature} ---")
    print(sample(model, vocab, prime, args.sample_chars, args.temperature, generator, args.device))
    print("---")
    print(f"unigram baseline: {unigram:.2f} bits per character")
    print(f"held-out bits per character: {final:.2f}")


def draw_curve(pyplot, history: dict, uniform: float, unigram: float):
    """Training and held-out bpc against the step, with the two baselines for scale."""
    figure, axes = pyplot.subplots(figsize=(7, 4))
    axes.plot(history["step"], history["train_bpc"], label="training text (mean since the last point)")
    axes.plot(history["step"], history["heldout_bpc"], label="held-out text")
    axes.axhline(uniform, color="gray", linestyle=":", label=f"uniform guess ({uniform:.2f})")
    axes.axhline(unigram, color="gray", linestyle="--", label=f"character frequencies ({unigram:.2f})")
    axes.set_xlabel("training step")
    axes.set_ylabel("bits per character")
    axes.set_ylim(0, uniform + 0.5)
    axes.set_title("Character-level language model")
    axes.legend(loc="lower left")
    return figure


if __name__ == "__main__":
    main()
