"""aux_decoder: learns a digits class; two decoders share one latent and are averaged."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs


def test_learns_a_digit_class():
    result = run_on_digits("aux_decoder", task="1")
    assert result.metrics["auroc"] >= 0.85


def test_reconstruction_averages_both_decoders_and_the_loss_sums_their_errors():
    detector = fit_on_digits("aux_decoder", task="0", epochs=1)
    x = training_inputs(detector)[:8]
    model = detector.model.eval()
    with torch.no_grad():
        z = model.encoder(x)
        main, aux = model.decoder(z), model.aux_decoder(z)
        loss = detector.training_loss(model, x, None)
    out = detector.outputs(x)
    assert not torch.allclose(main, aux)  # two decoders, not one reported twice
    torch.testing.assert_close(out["reconstruction_aux"], aux)
    torch.testing.assert_close(out["reconstruction"], (main + aux) / 2)
    torch.testing.assert_close(loss, F.mse_loss(main, x) + F.mse_loss(aux, x))
