# Balanced BCE (LiVT, Xu et al., CVPR 2023): sigmoid BCE on z + log(pi / (1 - pi)), with LiVT's
# Mixup 0.8 / CutMix 1.0 and label smoothing 0.1 (LiVT builds Bal-BCE only with mixup).
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128 (LiVT has no CIFAR or ResNet recipe): python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(
    head=dict(loss=dict(_delete_=True, type='BalancedBCELoss', class_stats={{_base_.class_stats}},
                        label_smoothing=0.1)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
