# Logit-adjusted loss (Menon et al., ICLR 2021): cross-entropy on z + tau * log pi, tau = 1.
# LeNet-5 on Digits-LT (CPU, about a minute; the demo of configs/baseline/lenet_1xb32_digits-lt_30e.py).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=1.0, class_stats={{_base_.class_stats}})))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
