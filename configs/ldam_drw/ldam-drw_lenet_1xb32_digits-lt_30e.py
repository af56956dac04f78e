# LDAM-DRW (Cao et al., NeurIPS 2019): LDAM loss (max_m 0.5, s 30) on a cosine classifier,
# class-balanced re-weighting (beta 0.9999) deferred to a late epoch by DRWHook.
# LeNet-5 on Digits-LT (CPU, about a minute; the demo of configs/baseline/lenet_1xb32_digits-lt_30e.py).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = ['../_base_/models/lenet_digits_lt.py', '../_base_/datasets/digits_lt.py',
          '../_base_/schedules/digits_lt_30e.py', '../_base_/default_runtime_cls.py']
# DRW from epoch 24 of 30 (80% of training, RIDE's rule; LDAM-DRW's CIFAR recipe: 160 of 200).
model = dict(head=dict(_delete_=True, type='CosineClsHead', num_classes={{_base_.num_classes}}, in_channels=120,
                        scale=1.0,  # LDAM applies s=30 inside the loss, as the official code
                        loss=dict(type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0)))
custom_hooks = [dict(type='DRWHook', milestone=24, beta=0.9999)]
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
