"""Layer 5: optimizers and learning-rate schedulers, PyTorch-shaped
(``from tinygrad_rnn import optim``)::

    opt = optim.Adam(model.parameters(), lr=1e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        opt.zero_grad(); loss = ...; loss.backward(); opt.step()
        scheduler.step()

``LBFGS`` evaluates the loss several times per step, so ``opt.step(closure)`` needs a function
that clears the gradients, computes the loss, calls ``backward`` and returns the loss (see its
docstring).
``lr_scheduler.ReduceLROnPlateau`` follows a metric: ``scheduler.step(val_loss)``.
"""

from ..unsupported import module_getattr as _module_getattr
from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__getattr__ = _module_getattr(__name__)  # a missing PyTorch name says what to use instead (unsupported.py)
