# Class-balanced sigmoid focal loss (Cui et al., CVPR 2019), beta 0.9999, gamma 1.0, the
# classifier bias initialised to -log(C - 1) = -log(9) and kept out of weight decay, as the official code.
# LeNet-5 on Digits-LT (CPU, about a minute; the demo of configs/baseline/lenet_1xb32_digits-lt_30e.py).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(
    loss=dict(_delete_=True, type='ClassBalancedLoss', class_stats={{_base_.class_stats}}, beta=0.9999,
              loss_type='focal', gamma=1.0),
    init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=-2.1972245773362196)))
optim_wrapper = dict(paramwise_cfg=dict(bias_decay_mult=0.0))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
