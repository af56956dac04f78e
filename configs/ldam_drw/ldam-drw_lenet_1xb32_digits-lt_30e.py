# LDAM-DRW (Cao et al., NeurIPS 2019): LDAM loss (max_m 0.5, s 30) on a cosine classifier,
# class-balanced re-weighting (beta 0.9999) deferred to a late epoch (drw).
# LeNet-5 on Digits-LT (CPU, about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
# DRW from epoch 24 of 30 (80% of training, RIDE's rule; LDAM-DRW's CIFAR recipe: 160 of 200).
# the baseline's classifier made cosine (num_classes, in_channels kept), scale 1: LDAM applies s=30 in the loss
model = dict(head=dict(type='CosineClsHead', scale=1.0, loss=dict(
    _delete_=True, type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0,
    drw=dict(start_epoch=24, beta=0.9999))))
custom_hooks = [dict(type='LossEpochHook')]  # tells the loss the epoch (DRW)
