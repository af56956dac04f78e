# Balanced BCE (LiVT, Xu et al., CVPR 2023): sigmoid BCE on z + log(pi / (1 - pi)), with LiVT's
# Mixup 0.8 / CutMix 1.0 and label smoothing 0.1 (LiVT builds Bal-BCE only with mixup).
# LeNet-5 on Digits-LT (CPU, about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='BalancedBCELoss', class_stats={{_base_.class_stats}},
                        label_smoothing=0.1)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
