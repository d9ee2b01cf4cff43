"""``tinygrad_rnn.onnx``: the name of ``torch.onnx``, so that PyTorch scripts which ``import torch.onnx``
at the top (as pytorch/examples' word_language_model does, for an optional ``--onnx-export``) import here;
exporting itself is not supported and says so when called."""

from __future__ import annotations

__all__ = ["export"]


def export(*args, **kwargs):
    """Not supported: always raises ``NotImplementedError``. ``torch.onnx.export(model, args, f)`` traces the
    model into an ONNX graph; tinygrad_rnn has no ONNX writer. Save the weights instead and load them into the
    same model built with PyTorch, whose parameter names and shapes are the same, to export from there."""
    del args, kwargs  # PyTorch's arguments are accepted so that the error below is the one a caller sees
    raise NotImplementedError(
        "ONNX export is not supported by tinygrad_rnn; save the weights with tr.save(model.state_dict(), path) "
        "(or build the same model in PyTorch, load them there with load_state_dict, since the parameter names and "
        "shapes match, and export it with torch.onnx.export)"
    )
