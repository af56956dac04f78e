# LADE (Hong et al., CVPR 2021): cross-entropy on f(x) + log pi plus alpha * LADER (LADELoss); tested with f(x) +
# log pi_t (LogitAdjustedClsHead, tau=0; pi_t uniform unless target_prior is given). LeNet-5 on Digits-LT (CPU,
# about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method and the CIFAR alpha / lambda.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(
    type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=0.0, target_prior=None,
    loss=dict(_delete_=True, type='LADELoss', class_stats={{_base_.class_stats}}, alpha=0.1, remine_lambda=0.01)))
