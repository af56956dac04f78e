# Logit-adjusted loss (Menon et al., ICLR 2021): cross-entropy on z + tau * log pi, tau = 1.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe:
# configs/baseline/resnet32_1xb128_cifar100-lt-if100_200e.py with this method.
# One GPU x 128 as the official TF code (whose schedule is longer; see README): python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=1.0, class_stats={{_base_.class_stats}})))
