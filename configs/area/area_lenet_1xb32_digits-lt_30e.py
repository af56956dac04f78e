# AREA (Chen et al., ICCV 2023): cross-entropy, then from a late epoch weighted by the inverse effective area of each
# class, recomputed before every epoch from two passes over the training set (AREAHook). LeNet-5 on Digits-LT (CPU,
# about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this loss, re-weighted from epoch 24 of 30
# (80% of training, where the official CIFAR run switches: 160 of 200).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='AREALoss', class_stats={{_base_.class_stats}}, start_epoch=24)))
custom_hooks = [dict(type='AREAHook')]  # the epoch, and the effective areas of the re-weighted epochs
