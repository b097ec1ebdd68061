"""The shared training loop for PyTorch detectors: the harness's fast path lives here.

A neural plugin only says what its model is (:meth:`TorchDetector.build_model`), what it
minimises (:meth:`TorchDetector.training_loss`) and what it outputs
(:meth:`TorchDetector.forward_outputs`). Batching from on-device uint8 images, the optimiser,
mixed precision, ``channels_last``, ``torch.compile``, divergence checks and progress reports
are done once, here, so every detector gets them and they are measured in one place.
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

import torch
from torch import nn

from bench.constraints import COUNT, NON_NEGATIVE, POSITIVE, Allowed
from bench.detector import Detector, RunContext
from bench.images import ImageBatches

FUSED_ADAM_DEVICES = ("cuda", "cpu")


class TorchDetector(Detector):
    """Base class for detectors that train an ``nn.Module`` with Adam on minibatches."""

    # Merged into every subclass's own defaults (see ``Detector.defaults``).
    defaults: ClassVar[dict[str, Any]] = {"epochs": 5, "batch_size": 128, "lr": 1e-3}
    stochastic: ClassVar[bool] = True  # random initial weights and shuffled batches

    # epochs 0 would store an untrained model as "ok"; batch 0 and lr <= 0 or NaN never train.
    hparam_constraints: ClassVar[dict[str, Allowed]] = {
        "epochs": COUNT,
        "batch_size": COUNT,
        "lr": POSITIVE,
        "weight_decay": NON_NEGATIVE,  # optional: a detector that declares it gets it checked
    }

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx)
        self.model: nn.Module | None = None

    # --- what a plugin provides -------------------------------------------------------------
    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        """The network for inputs of shape C x H x W (called after the harness seeded)."""
        raise NotImplementedError

    def training_loss(
        self, model: nn.Module, x: torch.Tensor, y: torch.Tensor | None
    ) -> torch.Tensor:
        """Scalar loss for one batch; ``y`` holds 0/1 targets only with labelled anomalies."""
        raise NotImplementedError

    def forward_outputs(self, model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The named outputs for one test batch."""
        raise NotImplementedError

    def parameter_groups(self, model: nn.Module) -> Any:
        """What the optimiser updates: every parameter, or param groups (e.g. some without
        weight decay)."""
        return model.parameters()

    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        # Fused Adam updates every parameter in one deterministic elementwise kernel. On CPU the
        # default per-parameter loop took 155 ms a step for fcn_ae's 26.5M parameters, the
        # fused kernel 14 ms (benchmarks/NOTES.md).
        fused = self.ctx.device.type in FUSED_ADAM_DEVICES
        return torch.optim.Adam(
            self.parameter_groups(model),
            lr=self.hparams["lr"],
            weight_decay=self.hparams.get("weight_decay", 0.0),
            fused=fused or None,
        )

    # --- the loop ---------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.ctx.precision == "bf16" and self.ctx.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _prepare(self, x: torch.Tensor) -> torch.Tensor:
        if not self.ctx.deterministic and x.ndim == 4 and self.ctx.device.type == "cuda":
            return x.contiguous(memory_format=torch.channels_last)
        return x

    def _compiled(self, model: nn.Module) -> nn.Module:
        # On CPU, inductor's layout optimisation turns convolutions channels_last, and in torch
        # 2.13.0+cpu the backward of a channels_last 1x1 stride-2 convolution with few channels
        # (resnet-type shortcuts) corrupts the heap and kills the process (benchmarks/NOTES.md).
        options = {"layout_optimization": False} if self.ctx.device.type == "cpu" else None
        return torch.compile(model, options=options)

    def fit(self, train: ImageBatches) -> TorchDetector:
        model = self.build_model(train.shape).to(self.ctx.device)
        if not self.ctx.deterministic and self.ctx.device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        step_model: nn.Module = self._compiled(model) if self.ctx.compile else model
        optimizer = self.make_optimizer(model)
        epochs, batch_size = int(self.hparams["epochs"]), int(self.hparams["batch_size"])
        labelled = self.uses_labelled_anomalies and train.has_targets
        for epoch in range(epochs):
            model.train()
            total = torch.zeros((), device=self.ctx.device)
            steps = 0
            batches = (
                train.labelled_batches(batch_size, shuffle=True)
                if labelled
                else ((x, None) for x in train.batches(batch_size, shuffle=True))
            )
            for x, y in batches:
                if len(x) == 1 and len(train) > 1:
                    continue  # a lone trailing image: BatchNorm cannot train on a batch of one
                with self._autocast():
                    loss = self.training_loss(step_model, self._prepare(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.detach().float()
                steps += 1
            # One host sync per epoch, not per step.
            self.ctx.epoch_done(epoch, epochs, (total / max(steps, 1)).item())
        return self

    @torch.inference_mode()
    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.model is None:
            raise RuntimeError(f"{self.name}: outputs() called before fit()")
        self.model.eval()
        with self._autocast():
            out = self.forward_outputs(self.model, self._prepare(x))
        return {k: v.float() for k, v in out.items()}

    def parameter_count(self) -> int:
        if self.model is None:
            return 0
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)
