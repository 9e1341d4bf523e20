"""Automatic differentiation: Function, the backward engine, grad mode, gradcheck."""
from .function import Context, Function, backward
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck

__all__ = ["Function", "Context", "backward", "gradcheck", "no_grad", "enable_grad",
           "is_grad_enabled", "set_grad_enabled", "inference_mode"]
