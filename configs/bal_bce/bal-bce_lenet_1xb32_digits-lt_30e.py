# Balanced BCE (LiVT, Xu et al., CVPR 2023): sigmoid BCE on z + log(pi / (1 - pi)), with LiVT's
# Mixup 0.8 / CutMix 1.0 and label smoothing 0.1 (LiVT builds Bal-BCE only with mixup).
# LeNet-5 on Digits-LT (CPU, about a minute; the demo of configs/baseline/lenet_1xb32_digits-lt_30e.py).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
model = dict(
    head=dict(loss=dict(_delete_=True, type='BalancedBCELoss', class_stats={{_base_.class_stats}},
                        label_smoothing=0.1)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
