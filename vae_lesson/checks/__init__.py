"""Exercise checkers: each runs a student's answer on fresh inputs, compares it with the reference,
and says in one plain sentence what is wrong (shape, sign, a missing sum or mean, a factor off, NaN, a detached
tensor, an unwritten stub) with a hint that says where the notebook teaches it (notebook, section, equation).
Every checker takes ``hint=2`` for a more specific hint (the formula's terms, the axis to reduce); no hint ever
shows the solution's code, and a wrong choice in a prediction gets a nudge, never the right choice.

They print their verdict, return None and never raise, so a wrong answer never ends in a bare traceback.
They speak the course's language of the moment: English, or Korean after ``vae_lesson.set_language("ko")``
(``vae_lesson.i18n``; the translations are in ``vae_lesson/locale/ko.json``).
Notebooks use them as ``from vae_lesson import checks; checks.check_...(...)``. One module per notebook:

- ``checks.elbo``, ``notebooks/01_elbo.ipynb``: ``check_kl_diag``, ``check_elbo_mc``, ``check_zero_gap_q``,
  ``check_gap_sign``;
- ``checks.gradients``, ``notebooks/02_gradients.ipynb``: ``check_reparam_sample``, ``check_score_grad_mu``,
  ``check_optimal_baseline``;
- ``checks.training``, ``notebooks/03_train_vae.ipynb``: ``check_negative_elbo_loss``,
  ``check_iwae_from_log_weights``, ``check_beta_prediction``;
- ``checks.latent``, ``notebooks/04_latent_explorer.ipynb``: ``check_slerp``, ``check_class_direction``;
- ``checks.anomaly``, ``notebooks/05_density_and_anomalies.ipynb``: ``check_auroc``,
  ``check_sneaky_corruption``;
- ``checks.real_data``, ``notebooks/06_real_data.ipynb``: ``check_gaussian_log_likelihood``,
  ``check_sigma_for_beta``;
- ``checks.conditional``, ``notebooks/07_conditional_and_beta.ipynb``: ``check_rate_and_distortion``,
  ``check_style_transfer``;

and ``checks._verdict`` holds what they share (the verdict, the guard, the comparison with typical mistakes).
"""

from vae_lesson.checks._verdict import UNSOLVED, report
from vae_lesson.checks.anomaly import check_auroc, check_sneaky_corruption
from vae_lesson.checks.conditional import check_rate_and_distortion, check_style_transfer
from vae_lesson.checks.elbo import (
    GAP_SIGN_FEEDBACK,
    check_elbo_mc,
    check_gap_sign,
    check_kl_diag,
    check_zero_gap_q,
)
from vae_lesson.checks.gradients import check_optimal_baseline, check_reparam_sample, check_score_grad_mu
from vae_lesson.checks.latent import check_class_direction, check_slerp
from vae_lesson.checks.real_data import check_gaussian_log_likelihood, check_sigma_for_beta
from vae_lesson.checks.training import (
    BETA_FEEDBACK,
    check_beta_prediction,
    check_iwae_from_log_weights,
    check_negative_elbo_loss,
)

__all__ = [
    "BETA_FEEDBACK",
    "GAP_SIGN_FEEDBACK",
    "UNSOLVED",
    "check_auroc",
    "check_beta_prediction",
    "check_class_direction",
    "check_elbo_mc",
    "check_gaussian_log_likelihood",
    "check_gap_sign",
    "check_iwae_from_log_weights",
    "check_kl_diag",
    "check_negative_elbo_loss",
    "check_optimal_baseline",
    "check_rate_and_distortion",
    "check_reparam_sample",
    "check_score_grad_mu",
    "check_sigma_for_beta",
    "check_slerp",
    "check_sneaky_corruption",
    "check_style_transfer",
    "check_zero_gap_q",
    "report",
]
